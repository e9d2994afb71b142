//! Child processes that cannot outlive the process that started them.
//!
//! Children are spawned from one thread that never exits, with
//! `PR_SET_PDEATHSIG`: Linux sends the signal when the *spawning thread*
//! dies, so spawning from short-lived test threads would kill them early,
//! while a keeper thread ties them to the whole process. A test binary that
//! panics, or is killed, leaves no etcd or kube-apiserver behind.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

fn keeper() -> &'static Mutex<mpsc::Sender<SpawnRequest>> {
    static KEEPER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("coffer-child-keeper".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
                // Every sender is gone only at process exit; park so this
                // thread, the children's parent, lives until then.
                loop {
                    std::thread::park();
                }
            })
            .expect("spawning a thread");
        Mutex::new(tx)
    })
}

/// A running child that is killed when dropped.
#[derive(Debug)]
pub struct Supervised {
    pub name: &'static str,
    child: Child,
}

impl Supervised {
    /// Starts `program` with `args`, its output written to `log`.
    pub fn spawn(
        name: &'static str,
        program: &Path,
        args: &[String],
        log: &Path,
    ) -> std::io::Result<Self> {
        Self::spawn_with_env(name, program, args, &[], log)
    }

    /// `spawn` with extra environment variables for the child.
    pub fn spawn_with_env(
        name: &'static str,
        program: &Path,
        args: &[String],
        env: &[(&str, &std::ffi::OsStr)],
        log: &Path,
    ) -> std::io::Result<Self> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let (tx, rx) = mpsc::channel();
        keeper()
            .lock()
            .map_err(|_| std::io::Error::other("child keeper poisoned"))?
            .send((cmd, tx))
            .map_err(|_| std::io::Error::other("child keeper gone"))?;
        let child = rx
            .recv()
            .map_err(|_| std::io::Error::other("child keeper gone"))??;
        Ok(Self { name, child })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child has exited, and how.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Asks the child to stop, then kills it if it has not after `grace`.
    pub fn stop(&mut self, grace: std::time::Duration) {
        if self.exited().is_some() {
            return;
        }
        // SAFETY: sending a signal to our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop(std::time::Duration::from_secs(5));
    }
}

/// A free TCP port on 127.0.0.1. The port is free when this returns; a
/// process started right after takes it.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
