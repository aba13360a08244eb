//! A config repository as a team has it: a bare repository the servers export, and a
//! working clone that commits (optionally SSH-signed) and pushes to it.

use std::path::{Path, PathBuf};

use super::run;

/// A valid config: one onboarded namespace per name.
pub fn namespace(name: &str) -> (String, String) {
    (
        format!("namespaces/{name}.yaml"),
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"),
    )
}

/// A YAML syntax error on line 3 of `routes.yaml`.
pub fn broken_yaml() -> (String, String) {
    (
        "routes.yaml".into(),
        "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: name: api-routes\n"
            .into(),
    )
}

/// A TrafficTarget whose rule names a route group that does not exist, on line 17 of
/// `target.yaml`.
pub fn dangling_reference() -> (String, String) {
    (
        "target.yaml".into(),
        "apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata:
  name: frontend-to-api
  namespace: shop
spec:
  destination:
    kind: ServiceAccount
    name: api
    namespace: shop
  sources:
  - kind: ServiceAccount
    name: frontend
    namespace: shop
  rules:
  - kind: HTTPRouteGroup
    name: api-routez
"
        .into(),
    )
}

pub struct Upstream {
    /// The bare repository servers export: `<root>/<name>.git`.
    pub bare: PathBuf,
    work: PathBuf,
}

impl Upstream {
    /// A bare repository `<served>/<name>.git` whose `main` holds one valid commit that
    /// onboards namespace `shop`.
    pub fn create(served: &Path, work_root: &Path, name: &str) -> (Self, String) {
        let bare = served.join(format!("{name}.git"));
        std::fs::create_dir_all(&bare).expect("create bare folder");
        git(&bare, &["init", "-q", "--bare", "-b", "main"]);
        let work = work_root.join(format!("{name}-work"));
        std::fs::create_dir_all(&work).expect("create work folder");
        git(&work, &["init", "-q", "-b", "main"]);
        git(
            &work,
            &[
                "remote",
                "add",
                "origin",
                bare.to_str().expect("UTF-8 path"),
            ],
        );
        let upstream = Upstream { bare, work };
        let first = upstream.commit(&[namespace("shop")], "onboard shop");
        (upstream, first)
    }

    /// Commits the files and pushes `main`; returns the commit id.
    pub fn commit(&self, files: &[(String, String)], message: &str) -> String {
        self.commit_as(files, message, None)
    }

    /// Commits signed with the SSH private key at `key` (git's gpg.format=ssh).
    pub fn commit_signed(&self, files: &[(String, String)], message: &str, key: &Path) -> String {
        self.commit_as(files, message, Some(key))
    }

    fn commit_as(&self, files: &[(String, String)], message: &str, key: Option<&Path>) -> String {
        for (path, text) in files {
            let full = self.work.join(path);
            std::fs::create_dir_all(full.parent().expect("a parent")).expect("create folder");
            std::fs::write(full, text).expect("write file");
        }
        git(&self.work, &["add", "-A"]);
        match key {
            Some(key) => {
                let signing_key = format!("user.signingkey={}", key.display());
                git(
                    &self.work,
                    &[
                        "-c",
                        "gpg.format=ssh",
                        "-c",
                        &signing_key,
                        "commit",
                        "-q",
                        "-S",
                        "--allow-empty",
                        "-m",
                        message,
                    ],
                );
            }
            None => {
                git(
                    &self.work,
                    &["commit", "-q", "--allow-empty", "-m", message],
                );
            }
        }
        git(&self.work, &["push", "-q", "origin", "main"]);
        self.head()
    }

    /// Replaces the last commit with another one and force-pushes it: the old tip is no
    /// longer on `main`.
    pub fn rewrite_last_commit(&self, files: &[(String, String)], message: &str) -> String {
        git(&self.work, &["reset", "-q", "--hard", "HEAD~1"]);
        for (path, text) in files {
            std::fs::write(self.work.join(path), text).expect("write file");
        }
        git(&self.work, &["add", "-A"]);
        git(
            &self.work,
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        git(&self.work, &["push", "-q", "--force", "origin", "main"]);
        self.head()
    }

    /// Pushes the current commit to another branch too.
    pub fn push_to(&self, branch: &str) {
        git(
            &self.work,
            &["push", "-q", "origin", &format!("HEAD:refs/heads/{branch}")],
        );
    }

    /// Deletes a file from the working clone; the next commit records it.
    pub fn delete(&self, path: &str) {
        std::fs::remove_file(self.work.join(path)).expect("delete file");
    }

    /// The working clone: a local non-bare repository.
    pub fn work(&self) -> &Path {
        &self.work
    }

    pub fn head(&self) -> String {
        git(&self.work, &["rev-parse", "HEAD"])
    }
}

fn git(directory: &Path, args: &[&str]) -> String {
    let mut full = vec![
        "-c",
        "user.name=Config Author",
        "-c",
        "user.email=author@example.com",
        "-c",
        "commit.gpgsign=false",
    ];
    full.extend_from_slice(args);
    run("git", &full, Some(directory))
}
