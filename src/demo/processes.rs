//! Validators as child processes of this binary (`consentry node --config`), for the demo on
//! several validators: started, killed with SIGKILL, restarted, stopped with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::api::StatusResponse;
use crate::cli::cluster::{write_cluster, ClusterPlan, ValidatorAddr};
use crate::client::NodeClient;

/// A consortium of validator processes on 127.0.0.1.
pub struct Processes {
    dir: PathBuf,
    exe: PathBuf,
    api: Vec<String>,
    children: Vec<Option<Child>>,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Processes {
    /// Writes a `validators`-validator development consortium into `dir` (genesis with
    /// `root_window_secs`, keys, configs on free ports) and starts every validator.
    pub fn start(
        dir: &Path,
        validators: usize,
        params_dir: &Path,
        root_window_secs: u32,
    ) -> anyhow::Result<Processes> {
        let mut addrs = Vec::new();
        for i in 0..validators {
            addrs.push(ValidatorAddr {
                id: i as u64 + 1,
                api: format!("127.0.0.1:{}", free_port()?),
                peer: format!("127.0.0.1:{}", free_port()?),
            });
        }
        write_cluster(&ClusterPlan {
            out: dir,
            addrs: addrs.clone(),
            chain_id: "consentry-demo-consortium".into(),
            dev: true,
            block_ms: 50,
            root_window_secs,
            params_dir: params_dir.to_path_buf(),
            inspector: None,
        })?;
        let mut p = Processes {
            dir: dir.to_path_buf(),
            exe: std::env::current_exe().context("the path of this program")?,
            api: addrs.iter().map(|a| a.api.clone()).collect(),
            children: (0..validators).map(|_| None).collect(),
        };
        for i in 0..validators {
            p.spawn(i)?;
        }
        Ok(p)
    }

    /// The issuer key `cluster init` wrote.
    pub fn issuer_key(&self) -> PathBuf {
        self.dir.join("issuer.key")
    }

    /// The development inspector's key `cluster init --dev` wrote.
    pub fn inspector_key(&self) -> PathBuf {
        self.dir.join("inspector.key")
    }

    /// The consortium's genesis file.
    pub fn genesis(&self) -> PathBuf {
        self.dir.join("genesis.json")
    }

    /// Validator `i`'s (0-based) data directory.
    pub fn data(&self, i: usize) -> PathBuf {
        self.dir.join(format!("validator-{}", i + 1))
    }

    /// Validator `i`'s API URL.
    pub fn url(&self, i: usize) -> String {
        format!("http://{}", self.api[i])
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.api.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.api.is_empty()
    }

    /// (Re)starts validator `i`, its log in `log-N.txt`.
    pub fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("log-{}.txt", i + 1)))?;
        let child = Command::new(&self.exe)
            .args(["node", "--config"])
            .arg(self.dir.join(format!("validator-{}.toml", i + 1)))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.exe.display()))?;
        self.children[i] = Some(child);
        Ok(())
    }

    /// Sends `signal` to validator `i` and waits for it to exit.
    pub fn signal(&mut self, i: usize, signal: i32) -> anyhow::Result<()> {
        if let Some(mut c) = self.children[i].take() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(c.id() as i32, signal) };
            c.wait()?;
        }
        Ok(())
    }

    fn status(&self, i: usize) -> Option<StatusResponse> {
        NodeClient::new(&self.url(i)).status().ok()
    }

    /// Waits until the validators `among` agree on a leader other than `not`.
    pub fn wait_leader(&self, among: &[usize], not: Option<u64>) -> anyhow::Result<u64> {
        let started = Instant::now();
        loop {
            let seen: Vec<Option<u64>> = among
                .iter()
                .map(|i| {
                    self.status(*i)
                        .and_then(|s| s.cluster)
                        .and_then(|c| c.leader)
                })
                .collect();
            if let Some(Some(l)) = seen.first() {
                if seen.iter().all(|s| *s == Some(*l)) && Some(*l) != not {
                    return Ok(*l);
                }
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "no leader agreed among validators {among:?}: {seen:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the validators `among` share one tip, final on each; returns its height.
    pub fn wait_settled(&self, among: &[usize]) -> anyhow::Result<u64> {
        let started = Instant::now();
        loop {
            let st: Vec<_> = among.iter().filter_map(|i| self.status(*i)).collect();
            if st.len() == among.len() {
                let h = st[0].height;
                if st.iter().all(|s| {
                    s.height == h
                        && s.tip_hash == st[0].tip_hash
                        && s.cluster.as_ref().is_some_and(|c| c.final_height == h)
                }) {
                    return Ok(h);
                }
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "validators {among:?} did not reach one final tip"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
