//! A ledger over a real RocksDB in a temp dir, with two issuers, three accredited
//! institutions and helpers to build, commit and refuse transactions: the world the ledger
//! tests share.
#![allow(dead_code)]

use consentry::circuits::credential::Role;
use consentry::circuits::registry::RegistryTree;
use consentry::ledger::fixture::{Fixture, Institution, ISSUER_ID, NOON_MS};
use consentry::ledger::*;
use consentry::store::RocksStore;

pub const DEPTH: usize = 4;
pub const TODAY: u32 = 20_400;

pub struct World {
    pub fx: Fixture,
    /// Stream names shared so far and their ids (derived from each patient's key).
    pub streams: std::collections::HashMap<String, String>,
    pub ledger: Ledger<RocksStore>,
    pub dir: tempfile::TempDir,
    pub hospital: Institution,
    pub research: Institution,
    pub platform: Institution,
    pub time: u64,
}

impl World {
    pub fn new(root_window_secs: u32) -> World {
        Self::build(root_window_secs, false)
    }

    /// A world whose chain has an inspector (escrow keys made at [`DEPTH`]).
    pub fn with_inspector(root_window_secs: u32) -> World {
        Self::build(root_window_secs, true)
    }

    fn build(root_window_secs: u32, inspector: bool) -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("params")).unwrap();
        let mut fx = Fixture::new(DEPTH, &dir.path().join("params"), 3);
        if inspector {
            fx = fx.with_inspector();
        }
        let store = RocksStore::open(&dir.path().join("db")).unwrap();
        let ledger = Ledger::create(
            store,
            fx.genesis(root_window_secs),
            fx.keys(),
            &fx.validator,
        )
        .unwrap();
        let hospital = fx.institution(Role::Hospital, 3);
        let research = fx.institution(Role::Research, 2);
        let platform = fx.institution(Role::Platform, 1);
        let mut w = World {
            fx,
            streams: Default::default(),
            ledger,
            dir,
            hospital,
            research,
            platform,
            time: NOON_MS,
        };
        let txs = vec![
            w.fx.issue(w.hospital.leaf()),
            w.fx.issue(w.research.leaf()),
            w.fx.issue(w.platform.leaf()),
        ];
        w.block_ok(txs);
        w
    }

    pub fn tree(&self) -> RegistryTree {
        self.ledger.registry(ISSUER_ID).unwrap().clone()
    }

    /// The id of the stream shared under `name`, or, for a name never shared, a well-formed
    /// id nobody shared.
    pub fn sid(&self, name: &str) -> String {
        self.streams
            .get(name)
            .cloned()
            .unwrap_or_else(|| stream_id_for(&[9; 32], name))
    }

    pub fn block(&mut self, txs: Vec<Transaction>) -> (Block, Vec<(TxId, Rejection)>) {
        self.time += 1000;
        self.ledger
            .propose(txs, self.time, &self.fx.validator)
            .unwrap()
    }

    pub fn block_ok(&mut self, txs: Vec<Transaction>) -> Block {
        let n = txs.len();
        let (b, rejected) = self.block(txs);
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(b.tx_ids.len(), n);
        b
    }

    /// Submits one transaction alone in a block and returns its rejection reason's code.
    pub fn reject(&mut self, tx: Transaction) -> String {
        let check = self.ledger.check(&tx, self.time + 1000);
        let (b, rejected) = self.block(vec![tx]);
        assert!(b.tx_ids.is_empty());
        assert_eq!(rejected.len(), 1);
        assert_eq!(
            check.unwrap_err(),
            rejected[0].1,
            "mempool check and block agree"
        );
        rejected[0].1.code().to_string()
    }

    pub fn share(&mut self, stream: &str, policy: Policy) -> schnorrkel::Keypair {
        let patient = self.fx.patient_key();
        let tree = self.tree();
        let p = self.platform.clone();
        let tx = self.fx.consent(&p, &patient, &tree, stream, policy, TODAY);
        self.block_ok(vec![tx]);
        self.streams
            .insert(stream.into(), Fixture::stream_id(&patient, stream));
        patient
    }

    /// An escrowed access by `who` at its own level.
    pub fn escrowed_access(&mut self, who: &Institution, stream: &str, nonce: u64) -> Transaction {
        let tree = self.tree();
        let id = self.sid(stream);
        self.fx.escrowed_access(who, &tree, &id, TODAY, nonce)
    }

    pub fn access(
        &mut self,
        who: &Institution,
        stream: &str,
        min_level: u16,
        nonce: u64,
    ) -> Transaction {
        let tree = self.tree();
        let id = self.sid(stream);
        self.fx.access(who, &tree, &id, min_level, TODAY, nonce)
    }
}
