//! The public statement of a token and the prover's witness.

use ark_bls12_381::Fr;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::credential::{Attributes, Credential, Role, SecretKey};
use crate::registry::MerklePath;

/// Number of public inputs of the access circuit.
pub const NUM_PUBLIC_INPUTS: usize = 8;

/// What a token discloses and what it is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicInputs {
    /// Registry root the membership proof is against.
    #[serde(with = "crate::serde_fr")]
    pub root: Fr,
    /// Pseudonym scope (e.g. [`crate::field::access_scope`]).
    #[serde(with = "crate::serde_fr")]
    pub scope: Fr,
    /// `H_nym(sk, scope)`.
    #[serde(with = "crate::serde_fr")]
    pub pseudonym: Fr,
    /// The bound message (hash of the transaction body).
    #[serde(with = "crate::serde_fr")]
    pub message: Fr,
    /// Disclosed role.
    pub role: Role,
    /// Disclosed issuer.
    pub issuer_id: u32,
    /// The policy's minimum accreditation level.
    pub min_level: u16,
    /// The day (since 1970-01-01) the credential must still be valid on.
    pub today: u32,
}

impl PublicInputs {
    /// The field elements in circuit order.
    pub fn to_field_elements(&self) -> [Fr; NUM_PUBLIC_INPUTS] {
        [
            self.root,
            self.scope,
            self.pseudonym,
            self.message,
            Fr::from(self.role.code()),
            Fr::from(self.issuer_id),
            Fr::from(self.min_level),
            Fr::from(self.today),
        ]
    }
}

/// Why a prover cannot make a token for a statement; checked natively before proving, so the
/// institution learns the reason instead of getting a proof that fails to verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// The credential's level is below the policy's minimum.
    #[error("the credential's level is below the required minimum level {min_level}")]
    LevelTooLow {
        /// Required level.
        min_level: u16,
    },
    /// The credential expired before `today`.
    #[error("the credential expired before day {today}")]
    Expired {
        /// The statement's day.
        today: u32,
    },
    /// Disclosed role or issuer differ from the credential's.
    #[error("the statement's {0} differs from the credential's")]
    AttributeMismatch(&'static str),
    /// The path does not lead from the credential's leaf to the statement's root.
    #[error("the credential is not in the registry under this root (revoked, or the leaf list is stale)")]
    NotInRegistry,
    /// The escrow is not this credential's id encrypted to the inspector with this `r`.
    #[error("the escrow does not encrypt this credential's id to the inspector")]
    Escrow,
    /// The path's tree depth is not the circuit depth.
    #[error("the Merkle path is for registry depth {got}, the circuit has depth {expected}")]
    PathDepth {
        /// Circuit depth.
        expected: usize,
        /// Path length.
        got: usize,
    },
}

/// Everything the prover knows and the token hides. Wiped when dropped: the secret key, the
/// hidden attributes (level, jurisdiction, expiry) and the path, whose index says which leaf,
/// and so which institution, this is. The role and issuer are public in every token. Its
/// `Debug` shows only the path's depth.
#[derive(Clone)]
pub struct AccessWitness {
    /// The institution's secret.
    pub sk: SecretKey,
    /// The credential's attributes (role and issuer are also public).
    pub attributes: Attributes,
    /// The leaf's authentication path.
    pub path: MerklePath,
}

impl Zeroize for AccessWitness {
    fn zeroize(&mut self) {
        self.sk.zeroize();
        let a = &mut self.attributes;
        a.level.zeroize();
        a.jurisdiction.zeroize();
        a.expiry_day.zeroize();
        self.path.zeroize();
    }
}

impl std::fmt::Debug for AccessWitness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessWitness")
            .field("sk", &self.sk)
            .field("attributes", &"<redacted>")
            .field("path_depth", &self.path.depth())
            .finish()
    }
}

impl Drop for AccessWitness {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for AccessWitness {}

impl AccessWitness {
    /// The public inputs this witness proves for `scope`, `message`, `min_level`, `today`,
    /// after checking natively that the statement holds.
    pub fn statement(
        &self,
        root: Fr,
        scope: Fr,
        message: Fr,
        min_level: u16,
        today: u32,
    ) -> Result<PublicInputs, StatementError> {
        let public = PublicInputs {
            root,
            scope,
            pseudonym: self.sk.pseudonym(scope),
            message,
            role: self.attributes.role,
            issuer_id: self.attributes.issuer_id,
            min_level,
            today,
        };
        self.check(&public, self.path.depth())?;
        Ok(public)
    }

    /// Checks natively that this witness satisfies the circuit for `public` at `depth`.
    pub fn check(&self, public: &PublicInputs, depth: usize) -> Result<(), StatementError> {
        let a = &self.attributes;
        if self.path.depth() != depth {
            return Err(StatementError::PathDepth {
                expected: depth,
                got: self.path.depth(),
            });
        }
        if a.role != public.role {
            return Err(StatementError::AttributeMismatch("role"));
        }
        if a.issuer_id != public.issuer_id {
            return Err(StatementError::AttributeMismatch("issuer_id"));
        }
        if self.sk.pseudonym(public.scope) != public.pseudonym {
            return Err(StatementError::AttributeMismatch("pseudonym"));
        }
        if a.level < public.min_level {
            return Err(StatementError::LevelTooLow {
                min_level: public.min_level,
            });
        }
        if a.expiry_day < public.today {
            return Err(StatementError::Expired {
                today: public.today,
            });
        }
        let leaf = Credential {
            id: self.sk.id(),
            attributes: *a,
        }
        .leaf();
        if self.path.root(leaf) != public.root {
            return Err(StatementError::NotInRegistry);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::Role;

    fn witness() -> AccessWitness {
        AccessWitness {
            sk: SecretKey::from_field(Fr::from(987_654_321u64)),
            attributes: Attributes {
                role: Role::Research,
                level: 31_337,
                jurisdiction: 756,
                expiry_day: 24_680,
                issuer_id: 9,
            },
            path: MerklePath {
                index: 123_456_789,
                siblings: vec![[Fr::from(55_555u64); 3]; 2],
            },
        }
    }

    /// `Debug` (what a log line or a panic message would show) hides every hidden value.
    #[test]
    fn debug_shows_no_hidden_value() {
        let shown = format!("{:?}", witness());
        for hidden in ["987654321", "31337", "756", "24680", "123456789", "55555"] {
            assert!(!shown.contains(hidden), "{hidden} in {shown}");
        }
        assert!(shown.contains("path_depth: 4"), "{shown}");
    }

    /// Wiping (what `Drop` runs) clears the secret, the hidden attributes and the path, and
    /// leaves the public role and issuer.
    #[test]
    fn wiping_clears_every_hidden_value() {
        let mut w = witness();
        w.zeroize();
        assert_eq!(w.sk.expose(), Fr::from(0u64));
        let a = &w.attributes;
        assert_eq!((a.level, a.jurisdiction, a.expiry_day), (0, 0, 0));
        assert_eq!((a.role, a.issuer_id), (Role::Research, 9));
        assert_eq!(w.path.index, 0);
        assert!(w.path.siblings.is_empty());
    }
}
