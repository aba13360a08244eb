//! A config repository for the reconciler to watch: a real Git repository made from
//! `examples-repo/` with the git CLI, changed by commits the way a user changes it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// `osm-simple-app`: frontend may `GET /api/values` on api.
pub const SIMPLE_ACCESS: &str = "osm-simple-app/access.yaml";
/// `osm-canary-deployment-sample-app`: frontend may call every version of api.
pub const CANARY_ACCESS: &str = "osm-canary-deployment-sample-app/access.yaml";
/// The 90/10 TrafficSplit of api between api-v1 and api-v2.
pub const CANARY_SPLIT: &str = "osm-canary-deployment-sample-app/split.yaml";
/// The Canary rollout of api (needs the canary controller).
pub const CANARY_ROLLOUT: &str = "osm-canary-deployment-sample-app/canary.yaml";
/// Every policy file of examples-repo/: without them, the namespaces are onboarded and
/// nothing may call anything.
pub const POLICY_FILES: [&str; 4] = [SIMPLE_ACCESS, CANARY_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT];

/// The examples-repo/ of this checkout.
pub fn examples_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples-repo")
}

/// A non-bare Git repository on disk; every change is a commit on its current branch.
pub struct ConfigRepo {
    path: PathBuf,
}

impl ConfigRepo {
    /// Copies examples-repo/ to `path`, leaves out the files `left_out` names (relative
    /// paths), and commits the rest as the first revision.
    pub async fn from_examples(path: &Path, left_out: &[&str]) -> anyhow::Result<Self> {
        let examples = examples_repo();
        for relative in left_out {
            // A misspelt name would silently leave the file in.
            anyhow::ensure!(
                examples.join(relative).is_file(),
                "examples-repo/{relative} does not exist"
            );
        }
        copy_tree(&examples, path, &examples, left_out)?;
        let repo = Self {
            path: path.to_owned(),
        };
        repo.git(&["init", "--quiet", "--initial-branch=main"])
            .await?;
        repo.git(&["add", "--all"]).await?;
        repo.commit("start from examples-repo").await?;
        Ok(repo)
    }

    /// The working tree.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The commit id of HEAD.
    pub async fn head(&self) -> anyhow::Result<String> {
        Ok(self.git(&["rev-parse", "HEAD"]).await?.trim().to_owned())
    }

    /// Puts `relative` back as examples-repo/ has it, commits it, and returns the commit id.
    pub async fn commit_from_examples(&self, relative: &str) -> anyhow::Result<String> {
        let text = std::fs::read_to_string(examples_repo().join(relative))
            .with_context(|| format!("read examples-repo/{relative}"))?;
        self.commit_file(relative, &text).await
    }

    /// Writes `text` to `relative`, commits it, and returns the commit id.
    pub async fn commit_file(&self, relative: &str, text: &str) -> anyhow::Result<String> {
        self.commit_files(&[(relative.to_owned(), text.to_owned())])
            .await
    }

    /// Writes each (relative path, text), commits them in one revision, and returns its id.
    pub async fn commit_files(&self, files: &[(String, String)]) -> anyhow::Result<String> {
        for (relative, text) in files {
            let path = self.path.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("create {}", parent.display()))?;
            }
            std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
            self.git(&["add", "--", relative]).await?;
        }
        let names: Vec<&str> = files
            .iter()
            .map(|(relative, _)| relative.as_str())
            .collect();
        self.commit(&format!("add {}", names.join(", "))).await?;
        self.head().await
    }

    /// Removes `relative` with `git rm`, commits, and returns the commit id.
    pub async fn commit_removal(&self, relative: &str) -> anyhow::Result<String> {
        self.git(&["rm", "--quiet", "--", relative]).await?;
        self.commit(&format!("remove {relative}")).await?;
        self.head().await
    }

    /// The subjects of the last `count` commits, newest first.
    pub async fn subjects(&self, count: usize) -> anyhow::Result<Vec<String>> {
        let count = format!("-{count}");
        let log = self.git(&["log", &count, "--format=%s"]).await?;
        Ok(log.lines().map(str::to_owned).collect())
    }

    async fn commit(&self, message: &str) -> anyhow::Result<()> {
        self.git(&["commit", "--quiet", "--message", message])
            .await
            .map(drop)
    }

    /// Runs git in the working tree with a fixed identity and without the user's or the
    /// system's configuration (hooks, signing), and returns its stdout.
    async fn git(&self, arguments: &[&str]) -> anyhow::Result<String> {
        let output = tokio::process::Command::new("git")
            .args([
                "-c",
                "user.name=meshcd e2e",
                "-c",
                "user.email=e2e@meshcd.invalid",
            ])
            .args(arguments)
            .current_dir(&self.path)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .await
            .with_context(|| format!("run git {arguments:?} (is git installed?)"))?;
        if !output.status.success() {
            bail!(
                "git {arguments:?} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        String::from_utf8(output.stdout).context("git output is not UTF-8")
    }
}

fn copy_tree(from: &Path, to: &Path, root: &Path, left_out: &[&str]) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("create {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let entry = entry?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&source, &target, root, left_out)?;
            continue;
        }
        let relative = source.strip_prefix(root)?.to_string_lossy().into_owned();
        if !left_out.contains(&relative.as_str()) {
            std::fs::copy(&source, &target)
                .with_context(|| format!("copy {} to {}", source.display(), target.display()))?;
        }
    }
    Ok(())
}
