//! `cargo isolate`: the command line over the `cargo_isolate` library.

use cargo_isolate::audit;
use cargo_isolate::cli::{AuditArgs, Cli, Command, Format};
use cargo_isolate::workspace::{Error, Workspace};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `cargo isolate audit` runs `cargo-isolate isolate audit`: drop the word cargo adds.
    let args = std::env::args_os()
        .enumerate()
        .filter(|(i, a)| !(*i == 1 && a == "isolate"))
        .map(|(_, a)| a);
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Audit(args) => run_audit(&args),
        Command::Stress(args) => cargo_isolate::stress::run_cli(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(if error.usage { 2 } else { 1 })
        }
    }
}

fn run_audit(args: &AuditArgs) -> Result<ExitCode, Error> {
    let workspace = Workspace::load(
        args.packages.manifest_path.as_deref(),
        &args.packages.package,
        args.packages.workspace,
    )?;
    let files: Vec<audit::Source> = workspace
        .chosen()
        .iter()
        .flat_map(|p| {
            audit::test_files(
                p.manifest_path
                    .parent()
                    .map_or(std::path::Path::new("."), |d| d.as_std_path()),
            )
        })
        .collect();
    let root = workspace.root();
    let result = audit::audit_files(&root, &files);
    for (file, why) in &result.skipped {
        eprintln!("warning: skipped `{file}`: {why}");
    }
    match args.format {
        Format::Json => print!("{}", audit::json_lines(&result)),
        Format::Human => print!("{}", audit::human(&root, &result)),
    }
    Ok(ExitCode::from(u8::from(
        args.deny && !result.findings.is_empty(),
    )))
}
