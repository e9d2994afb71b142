//! coffer's integration tests, against a real kube-apiserver and etcd on
//! loopback (see `support`). One binary, one control plane; each test works
//! in its own namespace.

mod admission;
mod controller;
mod examples;
mod krew;
mod smoke;
mod support;
