//! Function code as a deterministic zip: the same files give the same bytes on every run and
//! machine (sorted entries, fixed timestamps, modes and compression), so the zip's base64
//! SHA-256 can be compared with Lambda's `CodeSha256` without a state file.

use std::io::{Cursor, Write};
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

/// A function's code package.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Artifact {
    /// The zip file.
    pub bytes: Arc<Vec<u8>>,
    /// base64(SHA-256(zip)), as Lambda reports `CodeSha256`.
    pub sha256: String,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Artifact({} bytes, sha256 {})", self.bytes.len(), self.sha256)
    }
}

impl Artifact {
    /// Wraps zip bytes.
    pub(crate) fn from_zip(bytes: Vec<u8>) -> Self {
        let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
        Self { bytes: Arc::new(bytes), sha256 }
    }

    /// Reads a prebuilt `.zip` as is, or zips a directory deterministically.
    pub(crate) fn load(path: &Path) -> std::io::Result<Self> {
        if path.is_dir() { zip_directory(path).map(Self::from_zip) } else { std::fs::read(path).map(Self::from_zip) }
    }
}

/// Zips every file under `dir` (paths relative to it, `/`-separated, sorted), with the zip
/// format's earliest timestamp and mode 644 (755 for files executable by their owner). A
/// symbolic link is followed only while it stays inside `dir`: one leading out of it would
/// upload a file from elsewhere on the machine, readable by anyone allowed `lambda:GetFunction`.
fn zip_directory(dir: &Path) -> std::io::Result<Vec<u8>> {
    let root = std::fs::canonicalize(dir)?;
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.path_is_symlink() {
            refuse_escape(&root, dir, entry.path())?;
        }
        if entry.file_type().is_file() {
            let relative = entry.path().strip_prefix(dir).map_err(std::io::Error::other)?;
            let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            files.push((name, entry.path().to_path_buf()));
        }
    }
    files.sort();
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, path) in files {
        let executable = is_executable(&path)?;
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(DateTime::default())
            .system(System::Unix)
            .unix_permissions(if executable { 0o755 } else { 0o644 });
        zip.start_file(name, options).map_err(std::io::Error::other)?;
        zip.write_all(&std::fs::read(&path)?)?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

/// Refuses the symbolic link at `path` (under `dir`, whose real path is `root`) if it leads
/// out of the directory.
fn refuse_escape(root: &Path, dir: &Path, path: &Path) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    if target.starts_with(root) {
        return Ok(());
    }
    let relative = path.strip_prefix(dir).unwrap_or(path);
    Err(std::io::Error::other(format!(
        "`{}` is a symbolic link leading out of the code directory (to {}): only files inside it are packaged",
        relative.display(),
        target.display()
    )))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o100 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> std::io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_same_files_give_the_same_bytes_whatever_their_times_and_order() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write(a.path(), "api.js", "exports.handler = 1;");
        write(a.path(), "lib/util.js", "module.exports = 2;");
        write(b.path(), "lib/util.js", "module.exports = 2;");
        std::thread::sleep(std::time::Duration::from_millis(20));
        write(b.path(), "api.js", "exports.handler = 1;");
        let (first, second) = (Artifact::load(a.path()).unwrap(), Artifact::load(b.path()).unwrap());
        assert_eq!(first, second);
        write(b.path(), "api.js", "exports.handler = 3;");
        assert_ne!(Artifact::load(b.path()).unwrap().sha256, first.sha256);
    }

    #[test]
    fn the_bytes_are_pinned_so_every_machine_builds_the_same_zip() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.js", "b");
        write(dir.path(), "a/index.js", "exports.handler = async () => 1;\n");
        assert_eq!(Artifact::load(dir.path()).unwrap().sha256, PINNED);
    }

    /// The hash of the tree above; it changes only if the zip format authdemo writes changes.
    const PINNED: &str = "ZGvEE/3HqyVTJROh2/ZN+ivU9MRLPtr8oPjMI52Ys2s=";

    #[test]
    fn a_prebuilt_zip_is_taken_as_is() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("code.zip"), b"PK\x05\x06not really").unwrap();
        let artifact = Artifact::load(&dir.path().join("code.zip")).unwrap();
        assert_eq!(artifact.bytes.as_slice(), b"PK\x05\x06not really");
        assert_eq!(artifact.sha256.len(), 44);
    }
}
