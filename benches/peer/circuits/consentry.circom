pragma circom 2.1.0;

// Consentry's access statement (circuits/src/access/) written in circom, for the peer benchmark.
//
// Same shape as the arkworks circuit: Poseidon (x^5 S-box, 8 full rounds) with one permutation
// per hash at a width that fits its inputs (H_id and H_nym width 3, H_node width 5, H_leaf
// width 7), domain-tagged capacity, a 4-ary Merkle path of 10 levels (2^20 leaves), 16/32-bit
// range checks on differences, pseudonym, message binding. The permutation is circomlib's
// PoseidonEx, whose round constants and matrices are circomlib's BN254 ones used here over the
// BLS12-381 scalar field: the cost (3 multiplication constraints per S-box; 57, 60 and 63
// partial rounds at widths 3, 5 and 7, as in Consentry) is the same, the hash values are not
// Consentry's. It is a timing peer, not an interoperable implementation.

include "../node_modules/circomlib/circuits/poseidon.circom";
include "../node_modules/circomlib/circuits/bitify.circom";

// Capacity tags: domain << 32 | input_len (circuits/src/poseidon/mod.rs, Domain::capacity_tag).
function TAG_IDENTITY() { return (1 << 32) | 1; }
function TAG_LEAF() { return (2 << 32) | 6; }
function TAG_NODE() { return (3 << 32) | 4; }
function TAG_PSEUDONYM() { return (4 << 32) | 2; }

// Domain-separated hash of n inputs in ONE permutation of width rate + 1, the twin of
// Consentry's `hash_var`.
//
// circomlib's PoseidonEx(nInputs, nOuts) state is [initialState, inputs[0], ..., inputs[nInputs-1]],
// i.e. the capacity element is state[0], exactly Consentry's layout (state[0] = tag, inputs added
// to state[1..]). The digest is state[1] = out[1]. Inputs beyond n are absorbed as zero
// (H_id: rate 2, one input).
template TaggedHash(rate, n, tag) {
    assert(n <= rate);
    signal input in[n];
    signal output out;

    component p = PoseidonEx(rate, 2);
    p.initialState <== tag;
    for (var j = 0; j < rate; j++) {
        if (j < n) {
            p.inputs[j] <== in[j];
        } else {
            p.inputs[j] <== 0;
        }
    }
    out <== p.out[1];
    // The digest is state[1]; the capacity of the final state is dropped (no constraint).
    _ <== p.out[0];
}

// Root of a 4-ary Merkle path from `leaf`, the twin of `root_from_path_var`. Level h (leaf level
// first) has the siblings s0, s1, s2 in order and the index bits b0 = indexBits[2h],
// b1 = indexBits[2h + 1] (the leaf index, least significant bit first). The children of the next
// node are the siblings with the running node `cur` inserted at position p = b0 + 2 * b1.
// Per level: 2 booleanity constraints, 4 selection multiplications (u, c3, c0, q; c1 and c2 are
// linear) and one width-5 permutation.
template MerkleRoot4(levels) {
    signal input leaf;
    signal input siblings[levels][3];
    signal input indexBits[2 * levels];
    signal output root;

    component h[levels];
    signal u[levels];
    signal c0[levels];
    signal c1[levels];
    signal c2[levels];
    signal c3[levels];
    signal q[levels];
    signal cur[levels + 1];
    cur[0] <== leaf;
    for (var i = 0; i < levels; i++) {
        var b0 = indexBits[2 * i];
        var b1 = indexBits[2 * i + 1];
        var s0 = siblings[i][0];
        var s1 = siblings[i][1];
        var s2 = siblings[i][2];
        indexBits[2 * i] * (indexBits[2 * i] - 1) === 0;
        indexBits[2 * i + 1] * (indexBits[2 * i + 1] - 1) === 0;
        u[i] <== indexBits[2 * i] * indexBits[2 * i + 1];
        // c3 = cur iff p = 3; c0 = cur iff p = 0.
        c3[i] <== s2 + u[i] * (cur[i] - s2);
        c0[i] <== s0 + (1 - b0 - b1 + u[i]) * (cur[i] - s0);
        // c1 = cur if p = 1, s0 if p = 0, s1 if p >= 2.
        q[i] <== (1 - b1) * (cur[i] - s1);
        c1[i] <== s0 + s1 + q[i] - c0[i];
        // The four children are a permutation of (cur, s0, s1, s2).
        c2[i] <== cur[i] + s0 + s1 + s2 - c0[i] - c1[i] - c3[i];
        h[i] = TaggedHash(4, 4, TAG_NODE());
        h[i].in[0] <== c0[i];
        h[i].in[1] <== c1[i];
        h[i].in[2] <== c2[i];
        h[i].in[3] <== c3[i];
        cur[i + 1] <== h[i].out;
    }
    root <== cur[levels];
}

// a >= b by range-checking only the difference a - b to `bits` bits (Num2Bits: bits booleanity
// constraints + 1 packing), the twin of `enforce_geq`. b is a public input the verifier builds
// from a u16/u32, so a = b + d < 2^(bits + 1) and there is no wrap-around.
template GeqDiff(bits) {
    signal input a;
    signal input b;
    component rd = Num2Bits(bits);
    rd.in <== a - b;
    // Only the decomposition's constraints matter; its bits are not used (no constraint).
    _ <== rd.out;
}

// id = H_id(sk), leaf = H_leaf(id, role, level, jurisdiction, expiry_day, issuer_id).
template Leaf() {
    signal input sk;
    signal input role;
    signal input level;
    signal input jurisdiction;
    signal input expiry_day;
    signal input issuer_id;
    signal output out;

    component id = TaggedHash(2, 1, TAG_IDENTITY());
    id.in[0] <== sk;
    component leaf = TaggedHash(6, 6, TAG_LEAF());
    leaf.in[0] <== id.out;
    leaf.in[1] <== role;
    leaf.in[2] <== level;
    leaf.in[3] <== jurisdiction;
    leaf.in[4] <== expiry_day;
    leaf.in[5] <== issuer_id;
    out <== leaf.out;
}

// Values the prover needs that are functions of the private inputs: the registry root for the
// given path and the pseudonym. Used by the input generator (derive.circom), so the benchmark's
// input is computed with exactly the hash the access circuit uses. depth = log2 of the number of
// leaves (even): depth / 2 levels of arity 4.
template Derive(depth) {
    assert(depth % 2 == 0);
    var levels = depth \ 2;
    signal input sk;
    signal input role;
    signal input level;
    signal input jurisdiction;
    signal input expiry_day;
    signal input issuer_id;
    signal input scope;
    signal input siblings[levels][3];
    signal input index_bits[depth];
    signal output root;
    signal output pseudonym;

    component leaf = Leaf();
    leaf.sk <== sk;
    leaf.role <== role;
    leaf.level <== level;
    leaf.jurisdiction <== jurisdiction;
    leaf.expiry_day <== expiry_day;
    leaf.issuer_id <== issuer_id;
    component path = MerkleRoot4(levels);
    path.leaf <== leaf.out;
    path.siblings <== siblings;
    path.indexBits <== index_bits;
    root <== path.root;
    component nym = TaggedHash(2, 2, TAG_PSEUDONYM());
    nym.in[0] <== sk;
    nym.in[1] <== scope;
    pseudonym <== nym.out;
}

// The access statement. Public inputs in Consentry's order (circom numbers public inputs in
// declaration order): root, scope, pseudonym, message, role, issuer_id, min_level, today.
// depth = log2 of the number of leaves (even): depth / 2 levels of arity 4.
template Access(depth) {
    assert(depth % 2 == 0);
    var levels = depth \ 2;
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
    signal input siblings[levels][3];
    signal input index_bits[depth];

    // 1-3. id = H_id(sk); leaf = H_leaf(id, role, level, jurisdiction, expiry_day, issuer_id);
    // the leaf is in the tree with root `root`.
    component leaf = Leaf();
    leaf.sk <== sk;
    leaf.role <== role;
    leaf.level <== level;
    leaf.jurisdiction <== jurisdiction;
    leaf.expiry_day <== expiry_day;
    leaf.issuer_id <== issuer_id;
    component path = MerkleRoot4(levels);
    path.leaf <== leaf.out;
    path.siblings <== siblings;
    path.indexBits <== index_bits;
    path.root === root;

    // 4. Policy comparisons, range-checked on the difference (LEVEL_BITS = 16, DAY_BITS = 32).
    component levelOk = GeqDiff(16);
    levelOk.a <== level;
    levelOk.b <== min_level;
    component dayOk = GeqDiff(32);
    dayOk.a <== expiry_day;
    dayOk.b <== today;

    // 5. Pseudonym.
    component nym = TaggedHash(2, 2, TAG_PSEUDONYM());
    nym.in[0] <== sk;
    nym.in[1] <== scope;
    nym.out === pseudonym;

    // 6. Message binding (Semaphore's square).
    signal message_sq;
    message_sq <== message * message;
}
