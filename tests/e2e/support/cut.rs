//! A TCP proxy a test can cut: while cut it moves no byte either way but
//! keeps every connection open, which is how a network partition or a
//! half-open connection looks from both ends. Bytes a client writes while
//! cut wait in the kernel and are delivered once the cut heals, even after
//! the client has exited, as a partition that heals would deliver them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The proxy; dropping it closes every connection through it.
pub struct Cuttable {
    pub addr: SocketAddr,
    cut: watch::Sender<bool>,
    task: JoinHandle<()>,
    /// Bytes passed from the upstream server to the clients so far.
    downstream: Arc<AtomicU64>,
}

impl Cuttable {
    /// A proxy on a free loopback port to `upstream`, not cut.
    pub async fn to(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("its address");
        let (cut, cut_rx) = watch::channel(false);
        let downstream = Arc::new(AtomicU64::new(0));
        let counted = downstream.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let ignored = Arc::new(AtomicU64::new(0));
                connections.spawn(pipe(client_read, server_write, cut_rx.clone(), ignored));
                connections.spawn(pipe(
                    server_read,
                    client_write,
                    cut_rx.clone(),
                    counted.clone(),
                ));
            }
        });
        Self {
            addr,
            cut,
            task,
            downstream,
        }
    }

    /// How many bytes the upstream server has sent through the proxy.
    pub fn downstream_bytes(&self) -> u64 {
        self.downstream.load(Ordering::Relaxed)
    }

    /// Cuts (`true`) or heals (`false`) every connection, present and future.
    pub fn cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

impl Drop for Cuttable {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies `from` to `to` while not cut, adding what it copies to `bytes`.
async fn pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut cut: watch::Receiver<bool>,
    bytes: Arc<AtomicU64>,
) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        if cut.wait_for(|cut| !*cut).await.is_err() {
            return;
        }
        let read = tokio::select! {
            read = from.read(&mut buf) => read,
            // Cut while waiting: wait for the heal before reading on.
            _ = cut.wait_for(|cut| *cut) => continue,
        };
        let n = match read {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if cut.wait_for(|cut| !*cut).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
        bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
    let _ = to.shutdown().await;
}
