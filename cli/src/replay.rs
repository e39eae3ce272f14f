//! `inventory replay`: runs the state-change handler on a sample event.
//! (Being written; `Args` and `run` are the interface main.rs calls.)

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("replay is not implemented yet")
}
