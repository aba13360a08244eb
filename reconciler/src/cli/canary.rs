//! `meshcd canary promote|abort|pause|resume NAME`: act on a running rollout.

use anyhow::bail;

use super::status::ServerArgs;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Action {
    /// Go to 100% canary now and commit the promotion.
    Promote,
    /// Roll back to 100% stable now and commit the rollback.
    Abort,
    /// Hold the current weights; analysis stops.
    Pause,
    /// Continue a paused rollout.
    Resume,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do with the rollout.
    #[arg(value_enum)]
    pub action: Action,
    /// The Canary's name.
    pub name: String,
    /// The Canary's namespace.
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let action = match args.action {
        Action::Promote => "promote",
        Action::Abort => "abort",
        Action::Pause => "pause",
        Action::Resume => "resume",
    };
    let path = format!("/canaries/{}/{}/{action}", args.namespace, args.name);
    let (code, body) = args.server.call("POST", &path).await?;
    if !(200..300).contains(&code) {
        bail!("{action} failed with HTTP {code}: {}", body.trim());
    }
    outln!("{}", body.trim());
    Ok(())
}
