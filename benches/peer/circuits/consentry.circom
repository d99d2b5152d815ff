pragma circom 2.1.0;

// Consentry's access statement (circuits/src/access/) written in circom, for the peer benchmark.
//
// Same shape as the arkworks circuit: width-3 Poseidon sponge (capacity 1, rate 2, x^5 S-box,
// 8 full + 57 partial rounds), domain-tagged capacity, 20-level Merkle path, 16/32-bit range
// checks, pseudonym, message binding. The permutation is circomlib's PoseidonEx(2, 3), whose
// round constants and matrices are circomlib's BN254 ones used here over the BLS12-381 scalar
// field: the cost (243 multiplication constraints per permutation) is the same, the hash values
// are not Consentry's. It is a timing peer, not an interoperable implementation.

include "../node_modules/circomlib/circuits/poseidon.circom";
include "../node_modules/circomlib/circuits/bitify.circom";

// Capacity tags: domain << 32 | input_len (circuits/src/poseidon/mod.rs, Domain::capacity_tag).
function TAG_IDENTITY() { return (1 << 32) | 1; }
function TAG_LEAF() { return (2 << 32) | 6; }
function TAG_NODE() { return (3 << 32) | 2; }
function TAG_PSEUDONYM() { return (4 << 32) | 2; }

// Domain-separated sponge hash of n inputs, the twin of Consentry's `hash_var`.
//
// circomlib's PoseidonEx(nInputs, nOuts) state is [initialState, inputs[0], inputs[1]], i.e. the
// capacity element is state[0], exactly Consentry's layout (state[0] = tag, absorb into
// state[1..]). Each further chunk is added to out[1], out[2] of the previous permutation (free
// linear combinations) and out[0] carries the capacity over; the digest is state[1] = out[1].
// Missing inputs of the last chunk are absorbed as zero (adding nothing), as in Consentry.
template SpongeHash(n, tag) {
    signal input in[n];
    signal output out;

    var perms = (n + 1) \ 2;
    component p[perms];
    for (var k = 0; k < perms; k++) {
        p[k] = PoseidonEx(2, 3);
        if (k == 0) {
            p[k].initialState <== tag;
        } else {
            p[k].initialState <== p[k - 1].out[0];
        }
        for (var j = 0; j < 2; j++) {
            var x = 0;
            if (2 * k + j < n) {
                x = 1;
            }
            if (k == 0) {
                if (x == 1) {
                    p[k].inputs[j] <== in[2 * k + j];
                } else {
                    p[k].inputs[j] <== 0;
                }
            } else {
                if (x == 1) {
                    p[k].inputs[j] <== p[k - 1].out[j + 1] + in[2 * k + j];
                } else {
                    p[k].inputs[j] <== p[k - 1].out[j + 1];
                }
            }
        }
    }
    out <== p[perms - 1].out[1];
    // The digest is state[1]; the rest of the last state is dropped (no constraint).
    _ <== p[perms - 1].out[0];
    _ <== p[perms - 1].out[2];
}

// Root of the Merkle path from `leaf` (siblings leaf level first; isRight[h] = 1 when the
// running node is a right child), the twin of `root_from_path_var`: per level one booleanity
// constraint, one selection constraint (left = cur + b * (sib - cur)), one permutation.
template MerkleRoot(depth) {
    signal input leaf;
    signal input siblings[depth];
    signal input isRight[depth];
    signal output root;

    component h[depth];
    signal left[depth];
    signal cur[depth + 1];
    cur[0] <== leaf;
    for (var i = 0; i < depth; i++) {
        isRight[i] * (isRight[i] - 1) === 0;
        left[i] <== cur[i] + isRight[i] * (siblings[i] - cur[i]);
        h[i] = SpongeHash(2, TAG_NODE());
        h[i].in[0] <== left[i];
        h[i].in[1] <== cur[i] + siblings[i] - left[i];
        cur[i + 1] <== h[i].out;
    }
    root <== cur[depth];
}

// a >= b with a, b and a - b each range-checked to `bits` bits (Num2Bits: bits booleanity
// constraints + 1 packing), the twin of `enforce_geq`.
template GeqRange(bits) {
    signal input a;
    signal input b;
    component ra = Num2Bits(bits);
    component rb = Num2Bits(bits);
    component rd = Num2Bits(bits);
    ra.in <== a;
    rb.in <== b;
    rd.in <== a - b;
    // Only the decomposition's constraints matter; its bits are not used (no constraint).
    _ <== ra.out;
    _ <== rb.out;
    _ <== rd.out;
}

// Values the prover needs that are functions of the private inputs: the registry root for the
// given path and the pseudonym. Used by the input generator (derive.circom), so the benchmark's
// input is computed with exactly the hash the access circuit uses.
template Derive(depth) {
    signal input sk;
    signal input role;
    signal input level;
    signal input jurisdiction;
    signal input expiry_day;
    signal input issuer_id;
    signal input scope;
    signal input siblings[depth];
    signal input index_bits[depth];
    signal output root;
    signal output pseudonym;

    component id = SpongeHash(1, TAG_IDENTITY());
    id.in[0] <== sk;
    component leaf = SpongeHash(6, TAG_LEAF());
    leaf.in[0] <== id.out;
    leaf.in[1] <== role;
    leaf.in[2] <== level;
    leaf.in[3] <== jurisdiction;
    leaf.in[4] <== expiry_day;
    leaf.in[5] <== issuer_id;
    component path = MerkleRoot(depth);
    path.leaf <== leaf.out;
    for (var i = 0; i < depth; i++) {
        path.siblings[i] <== siblings[i];
        path.isRight[i] <== index_bits[i];
    }
    root <== path.root;
    component nym = SpongeHash(2, TAG_PSEUDONYM());
    nym.in[0] <== sk;
    nym.in[1] <== scope;
    pseudonym <== nym.out;
}

// The access statement. Public inputs in Consentry's order (circom numbers public inputs in
// declaration order): root, scope, pseudonym, message, role, issuer_id, min_level, today.
template Access(depth) {
    signal input root;
    signal input scope;
    signal input pseudonym;
    signal input message;
    signal input role;
    signal input issuer_id;
    signal input min_level;
    signal input today;

    signal input sk;
    signal input level;
    signal input jurisdiction;
    signal input expiry_day;
    signal input siblings[depth];
    signal input index_bits[depth];

    // 1-3. id = H_id(sk); leaf = H_leaf(id, role, level, jurisdiction, expiry_day, issuer_id);
    // the leaf is in the tree with root `root`.
    component id = SpongeHash(1, TAG_IDENTITY());
    id.in[0] <== sk;
    component leaf = SpongeHash(6, TAG_LEAF());
    leaf.in[0] <== id.out;
    leaf.in[1] <== role;
    leaf.in[2] <== level;
    leaf.in[3] <== jurisdiction;
    leaf.in[4] <== expiry_day;
    leaf.in[5] <== issuer_id;
    component path = MerkleRoot(depth);
    path.leaf <== leaf.out;
    for (var i = 0; i < depth; i++) {
        path.siblings[i] <== siblings[i];
        path.isRight[i] <== index_bits[i];
    }
    path.root === root;

    // 4. Policy comparisons, range-checked (LEVEL_BITS = 16, DAY_BITS = 32).
    component levelOk = GeqRange(16);
    levelOk.a <== level;
    levelOk.b <== min_level;
    component dayOk = GeqRange(32);
    dayOk.a <== expiry_day;
    dayOk.b <== today;

    // 5. Pseudonym.
    component nym = SpongeHash(2, TAG_PSEUDONYM());
    nym.in[0] <== sk;
    nym.in[1] <== scope;
    nym.out === pseudonym;

    // 6. Message binding (Semaphore's square).
    signal message_sq;
    message_sq <== message * message;
}
