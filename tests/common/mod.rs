//! Shared helpers for the CLI tests: run the built binary from the crate root (so paths in
//! snapshots are relative and stable) and snapshot into the top-level `snapshots/`.
#![allow(dead_code)]

use std::process::Command;

pub mod jsonschema;
pub mod mutate;
pub mod openapi;
pub mod planning;

/// What one run of `fabplan` produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr together, the way the snapshots show them.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs fabplan with `args` (no colour, fixed thread count unless the caller sets one).
pub fn run(args: &[&str]) -> Run {
    run_env(args, &[])
}

pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    run_in(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), args, env)
}

/// Runs fabplan with `args` in directory `dir`.
pub fn run_in(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_full(dir, args, env, None)
}

/// Runs fabplan in directory `dir` with `stdin` piped in (`-` inputs).
pub fn run_in_stdin(dir: &std::path::Path, args: &[&str], stdin: &str) -> Run {
    run_full(dir, args, &[], Some(stdin))
}

/// Runs fabplan from the crate root with `stdin` piped in (`-` inputs), environment `env`.
pub fn run_stdin(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    run_full(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        args,
        env,
        Some(stdin),
    )
}

fn run_full(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fabplan"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = match stdin {
        None => cmd.output().expect("fabplan runs"),
        Some(text) => {
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("fabplan runs");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())
                .expect("write stdin");
            child.wait_with_output().expect("fabplan finishes")
        }
    };
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(
        code,
        101,
        "fabplan panicked on {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `args` with `-o` into a directory that does not exist: exit 2 and no file left (the
/// write is atomic). Returns the run for further checks.
pub fn assert_failed_write(args: &[&str], file: &str) -> Run {
    let dir = std::env::temp_dir().join(format!("fabplan-nowrite-{}", std::process::id()));
    let target = dir.join("no-such-dir").join(file);
    let r = run_env(
        &[args, &["-o", target.to_str().unwrap()]].concat(),
        &[("COLUMNS", "100")],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!target.exists());
    r
}

/// Snapshots `text` as `name` in the top-level `snapshots/`.
pub fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

/// Copies a directory tree (for tests that write files next to the repository's inputs).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
