//! `smpp`: the command-line face of the SMPP stack. See `docs/cli.md`.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let code = smpp_cli::run(smpp_cli::Cli::parse())?;
    std::process::exit(code);
}
