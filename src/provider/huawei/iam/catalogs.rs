//! The account's role and project catalogs, kept for a few minutes.
//!
//! Every read of an agency resolves the spec's role and project names to
//! ids, and without a copy each one costs a project list and a role list:
//! two of the six calls a new agency made, and two of every agency's
//! drift check. The catalogs change seldom and by hand, so what was read in
//! the last [`KEEP`] is used again. A name the kept copy lacks is always
//! looked up afresh, so a role or project made a minute ago is found at
//! once; only a rename or a deletion waits up to [`KEEP`] to be seen.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Project, Role};

/// How long a catalog read is used again.
pub const KEEP: Duration = Duration::from_secs(300);

/// Kept copies of one account's catalogs.
#[derive(Debug, Default)]
pub struct Catalogs {
    projects: Mutex<Option<Kept<Vec<Project>>>>,
    /// Roles found, by the name they were asked by.
    roles: Mutex<HashMap<String, Kept<Role>>>,
}

#[derive(Debug)]
struct Kept<T> {
    at: Instant,
    value: T,
}

impl<T: Clone> Kept<T> {
    fn fresh(&self) -> Option<T> {
        (self.at.elapsed() < KEEP).then(|| self.value.clone())
    }
}

impl Catalogs {
    /// The project list read in the last [`KEEP`].
    pub fn projects(&self) -> Option<Vec<Project>> {
        lock(&self.projects).as_ref().and_then(Kept::fresh)
    }

    pub fn keep_projects(&self, projects: &[Project]) {
        *lock(&self.projects) = Some(Kept {
            at: Instant::now(),
            value: projects.to_vec(),
        });
    }

    /// The role found by `name` in the last [`KEEP`].
    pub fn role(&self, name: &str) -> Option<Role> {
        lock(&self.roles).get(name).and_then(Kept::fresh)
    }

    pub fn keep_role(&self, name: &str, role: &Role) {
        let mut roles = lock(&self.roles);
        // The expired go when a new one comes: the map stays as small as
        // the set of role names the account's agencies use.
        roles.retain(|_, kept| kept.at.elapsed() < KEEP);
        roles.insert(
            name.to_string(),
            Kept {
                at: Instant::now(),
                value: role.clone(),
            },
        );
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(name: &str) -> Project {
        Project {
            id: format!("id-{name}"),
            name: name.into(),
        }
    }

    #[test]
    fn a_read_is_used_again_until_it_expires() {
        let catalogs = Catalogs::default();
        assert_eq!(catalogs.projects(), None);
        catalogs.keep_projects(&[project("eu")]);
        assert_eq!(catalogs.projects(), Some(vec![project("eu")]));
        *lock(&catalogs.projects) = Some(Kept {
            at: Instant::now() - KEEP,
            value: vec![project("eu")],
        });
        assert_eq!(catalogs.projects(), None, "expired");
    }

    #[test]
    fn roles_are_kept_by_the_name_asked() {
        let catalogs = Catalogs::default();
        let role = Role {
            id: "r1".into(),
            name: "cbr_adm".into(),
            display_name: Some("CBR Administrator".into()),
        };
        catalogs.keep_role("CBR Administrator", &role);
        assert_eq!(catalogs.role("CBR Administrator"), Some(role));
        assert_eq!(catalogs.role("cbr_adm"), None);
    }
}
