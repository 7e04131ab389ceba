//! Attachments kept as files under the data folder, named by their SHA-256 (the same photo
//! sent twice is kept once), written to a temporary name, fsynced and renamed, so that a
//! crash leaves either the whole file or none, before the request is acknowledged.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::store::requests::NewAttachment;

/// A file name as a requester's mail program gave it, made safe to show and store: no folder
/// part, no control characters, at most 120 characters; `附件` when nothing is left.
pub fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_string();
    if cleaned.is_empty() {
        "附件".to_string()
    } else {
        cleaned
    }
}

/// Writes `bytes` under `data/attachments/` and describes it.
pub async fn save(
    data_dir: &Path,
    file_name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> std::io::Result<NewAttachment> {
    let sha256 = hex(&Sha256::digest(&bytes));
    let relative = format!("attachments/{}/{sha256}", &sha256[..2]);
    let path = data_dir.join(&relative);
    let size = bytes.len() as i64;
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        if path.exists() {
            return Ok(());
        }
        let dir = path.parent().expect("has a folder");
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{}.part", std::process::id()));
        let tmp = tmp.with_extension(format!("{}.part", rand::random::<u32>()));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(NewAttachment {
        file_name: safe_name(file_name),
        content_type: content_type.chars().take(100).collect(),
        size,
        sha256,
        path: relative,
    })
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_folders_and_control_characters() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\照片\\门口.jpg"), "门口.jpg");
        assert_eq!(safe_name("a\u{0}b\r\n.png"), "ab.png");
        assert_eq!(safe_name(".."), "附件");
        assert_eq!(safe_name(""), "附件");
    }

    #[tokio::test]
    async fn a_file_is_kept_once_by_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let a = save(dir.path(), "门口.jpg", "image/jpeg", b"photo".to_vec())
            .await
            .unwrap();
        let b = save(dir.path(), "again.jpg", "image/jpeg", b"photo".to_vec())
            .await
            .unwrap();
        assert_eq!(a.path, b.path);
        assert_eq!(a.size, 5);
        assert_eq!(a.sha256, hex(&Sha256::digest(b"photo")));
        assert_eq!(std::fs::read(dir.path().join(&a.path)).unwrap(), b"photo");
    }
}
