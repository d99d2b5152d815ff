//! The validator's Raft storage (log store and ledger state machine over RocksDB) passes
//! openraft's storage conformance suite.

use std::sync::{Arc, Mutex};

use consentry::consensus::raft::{LedgerStateMachine, LogStore, NodeId, TypeConfig};
use consentry::consensus::Rejections;
use consentry::ledger::fixture::Fixture;
use consentry::ledger::Ledger;
use consentry::store::RocksStore;
use openraft::testing::{StoreBuilder, Suite};
use openraft::StorageError;

struct Builder;

type Store = Arc<RocksStore>;

impl StoreBuilder<TypeConfig, LogStore<Store>, LedgerStateMachine<Store>, tempfile::TempDir>
    for Builder
{
    async fn build(
        &self,
    ) -> Result<
        (
            tempfile::TempDir,
            LogStore<Store>,
            LedgerStateMachine<Store>,
        ),
        StorageError<NodeId>,
    > {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("params")).unwrap();
        let fx = Fixture::new(4, &dir.path().join("params"), 1);
        let store = Arc::new(RocksStore::open(&dir.path().join("db")).unwrap());
        let ledger =
            Ledger::create(store.clone(), fx.genesis(300), fx.keys(), &fx.validator).unwrap();
        let sm = LedgerStateMachine::new(
            Arc::new(Mutex::new(ledger)),
            store.clone(),
            fx.validator.clone(),
            fx.keys(),
            Arc::new(Rejections::default()),
        );
        Ok((dir, LogStore::new(store), sm))
    }
}

#[test]
fn the_rocksdb_raft_storage_passes_openrafts_suite() {
    Suite::test_all(Builder).unwrap();
}
