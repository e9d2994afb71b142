//! The two ways coffer's image is built give the same image: `make image`
//! (buildah, image/Containerfile) and `docker build` (the Dockerfile). Both
//! lay the root filesystem out with image/rootfs.sh; this checks that their
//! runtime stages (labels, user, entrypoint, command) are the same text, and
//! that the one difference is where the root filesystem is copied from.

use std::path::Path;

const MARKER: &str = "# ---- runtime stage: keep in step with the Dockerfile's ----";

fn runtime_stage(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let (_, stage) = text
        .split_once(MARKER)
        .unwrap_or_else(|| panic!("{file} has no line `{MARKER}`"));
    stage.lines().map(str::to_string).collect()
}

#[test]
fn dockerfile_and_containerfile_share_their_runtime_stage() {
    let docker = runtime_stage("Dockerfile");
    let buildah = runtime_stage("image/Containerfile");
    assert_eq!(docker.len(), buildah.len(), "the stages differ in length");
    let mut copies = 0;
    for (d, b) in docker.iter().zip(&buildah) {
        if d.starts_with("COPY") {
            assert_eq!(d, "COPY --from=build /rootfs/ /", "Dockerfile");
            assert_eq!(b, "COPY rootfs/ /", "image/Containerfile");
            copies += 1;
        } else {
            assert_eq!(d, b);
        }
    }
    assert_eq!(copies, 1, "one COPY: the root filesystem");
}

#[test]
fn both_run_coffer_as_uid_65532_with_run_as_the_command() {
    for file in ["Dockerfile", "image/Containerfile"] {
        let stage = runtime_stage(file);
        for line in [
            "USER 65532:65532",
            r#"ENTRYPOINT ["/usr/local/bin/coffer"]"#,
            r#"CMD ["run"]"#,
        ] {
            assert!(stage.iter().any(|l| l == line), "{file} lacks `{line}`");
        }
        for label in ["version", "revision", "source", "licenses"] {
            let key = format!("org.opencontainers.image.{label}=");
            assert!(
                stage.iter().any(|l| l.contains(&key)),
                "{file} lacks the label {key}"
            );
        }
    }
}

#[test]
fn the_image_user_is_named_in_passwd_and_group() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("image");
    let passwd = std::fs::read_to_string(dir.join("passwd")).expect("image/passwd");
    let group = std::fs::read_to_string(dir.join("group")).expect("image/group");
    assert!(
        passwd
            .lines()
            .any(|l| l.starts_with("nonroot:x:65532:65532:"))
    );
    assert!(group.lines().any(|l| l.starts_with("nonroot:x:65532:")));
}
