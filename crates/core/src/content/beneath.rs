//! Opening a file only when it is inside the content folder, whatever symbolic links lie on
//! its path: the rule that nothing outside the content folder is ever read for publishing.
//!
//! Linux's `openat2` with `RESOLVE_BENEATH` refuses, in the kernel and without a race, any
//! path whose resolution leaves the folder (`..`, an absolute link, a link to outside) and,
//! with `RESOLVE_NO_MAGICLINKS`, `/proc`'s magic links. A link that stays inside but is
//! written as an absolute path is refused by the kernel too; its real path is then checked
//! and opened beneath the folder again, so it is still never outside when opened. Kernels
//! without `openat2` (before 5.6, or a seccomp filter that hides it) get the same check on
//! the real path, then an open that follows no link in its last name.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

/// The message of the error a path that leaves the content folder gets.
pub const OUTSIDE: &str =
    "resolves outside the content folder (through a symbolic link?): only files inside it are published";

/// Opens `path` (inside `root`, or relative to it) read-only and non-blocking, if it resolves
/// to a file inside `root`; a path that leads outside is an error of kind `PermissionDenied`
/// saying so ([`OUTSIDE`]).
pub fn open(root: &Path, path: &Path) -> io::Result<File> {
    let folder = open_folder(root)?;
    open_in(&folder, root, path, libc::O_RDONLY | libc::O_NONBLOCK)
}

/// Opens the folder `path` (inside `root`, or relative to it) as a handle for `openat`, if it
/// is inside `root`.
pub fn open_dir(root: &Path, path: &Path) -> io::Result<OwnedFd> {
    let folder = open_folder(root)?;
    open_in(&folder, root, path, libc::O_PATH | libc::O_DIRECTORY).map(OwnedFd::from)
}

/// The content folder itself, as the operator named it (a link to it is followed: it is theirs).
fn open_folder(root: &Path) -> io::Result<OwnedFd> {
    let name = c_path(root)?;
    // SAFETY: `name` is a NUL-terminated string alive for the call.
    let fd = unsafe { libc::open(name.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    owned(fd)
}

fn open_in(folder: &OwnedFd, root: &Path, path: &Path, flags: i32) -> io::Result<File> {
    let relative = path.strip_prefix(root).unwrap_or(path);
    if relative.is_absolute() || relative.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(outside());
    }
    let relative = if relative.as_os_str().is_empty() { Path::new(".") } else { relative };
    match openat2(folder, relative, flags) {
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) || e.raw_os_error() == Some(libc::ELOOP) => {
            // An absolute link that may still point inside: check where it really goes, then
            // open that, still beneath the folder.
            let real = root.join(relative).canonicalize()?;
            let real_root = root.canonicalize()?;
            match real.strip_prefix(&real_root) {
                Ok(inside) if inside.as_os_str().is_empty() => openat2(folder, Path::new("."), flags),
                Ok(inside) => openat2(folder, inside, flags),
                Err(_) => Err(outside()),
            }
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) || e.raw_os_error() == Some(libc::EPERM) => {
            fallback(root, relative, flags)
        }
        other => other,
    }
}

/// `openat2(folder, relative, flags)` resolving beneath `folder` only, through no magic link.
fn openat2(folder: &OwnedFd, relative: &Path, flags: i32) -> io::Result<File> {
    let name = c_path(relative)?;
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `folder` is an open descriptor, `name` a NUL-terminated string and `how` an
    // initialised `open_how` of the size passed, all alive for the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            folder.as_raw_fd(),
            name.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    owned(fd as i32).map(File::from)
}

/// Without `openat2`: the real path must be inside the real folder, and is opened without
/// following a link in its last name.
fn fallback(root: &Path, relative: &Path, flags: i32) -> io::Result<File> {
    let real = root.join(relative).canonicalize()?;
    if !real.starts_with(root.canonicalize()?) {
        return Err(outside());
    }
    let name = c_path(&real)?;
    // SAFETY: `name` is a NUL-terminated string alive for the call.
    let fd = unsafe { libc::open(name.as_ptr(), flags | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    owned(fd).map(File::from)
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

fn owned(fd: i32) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor the kernel just returned is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn outside() -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, OUTSIDE)
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::unix::fs::symlink;

    use super::*;

    fn read(root: &Path, path: &str) -> io::Result<String> {
        let mut text = String::new();
        open(root, &root.join(path))?.read_to_string(&mut text)?;
        Ok(text)
    }

    #[test]
    fn links_that_stay_inside_are_followed_and_links_out_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (site, out) = (dir.path().join("site"), dir.path().join("secret.txt"));
        std::fs::create_dir_all(site.join("_includes/sub")).unwrap();
        std::fs::write(&out, "SECRET").unwrap();
        std::fs::write(site.join("_includes/a.html"), "A").unwrap();
        symlink("a.html", site.join("_includes/rel.html")).unwrap();
        symlink(site.join("_includes/a.html"), site.join("_includes/abs.html")).unwrap();
        symlink(&out, site.join("_includes/env.html")).unwrap();
        symlink("/proc/self/environ", site.join("_includes/proc.html")).unwrap();
        symlink("../../secret.txt", site.join("_includes/up.html")).unwrap();
        symlink("/", site.join("_includes/root")).unwrap();
        symlink(dir.path(), site.join("_includes/sub/parent")).unwrap();
        assert_eq!(read(&site, "_includes/a.html").unwrap(), "A");
        assert_eq!(read(&site, "_includes/rel.html").unwrap(), "A");
        assert_eq!(read(&site, "_includes/abs.html").unwrap(), "A");
        for escape in [
            "_includes/env.html",
            "_includes/proc.html",
            "_includes/up.html",
            "_includes/root/etc/passwd",
            "_includes/sub/parent/secret.txt",
            "../secret.txt",
        ] {
            let e = read(&site, escape).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{escape}: {e}");
        }
    }

    #[test]
    fn a_content_folder_given_as_a_link_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::fs::write(dir.path().join("real/p.md"), "P").unwrap();
        symlink(dir.path().join("real"), dir.path().join("site")).unwrap();
        assert_eq!(read(&dir.path().join("site"), "p.md").unwrap(), "P");
        assert!(open_dir(&dir.path().join("site"), &dir.path().join("site")).is_ok());
    }

    #[test]
    fn the_fallback_refuses_the_same_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir(&site).unwrap();
        std::fs::write(dir.path().join("s"), "S").unwrap();
        std::fs::write(site.join("in.md"), "IN").unwrap();
        symlink(dir.path().join("s"), site.join("out.md")).unwrap();
        let flags = libc::O_RDONLY;
        assert!(fallback(&site, Path::new("in.md"), flags).is_ok());
        assert_eq!(fallback(&site, Path::new("out.md"), flags).unwrap_err().kind(), io::ErrorKind::PermissionDenied);
    }
}
