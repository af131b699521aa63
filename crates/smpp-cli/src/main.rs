//! `smpp`: the command-line face of the SMPP stack. See `docs/cli.md`.

use clap::Parser;

/// Faster than glibc's malloc for this load's bursts of same-sized blocks (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let code = smpp_cli::run(smpp_cli::Cli::parse())?;
    std::process::exit(code);
}
