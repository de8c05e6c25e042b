use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = vippsleaks::cli::Cli::parse();
    vippsleaks::app::run(cli).into()
}
