//! `rsmev keys generate`.

use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::cli::{KeyAlgorithm, KeysCommand, KeysGenerateArgs};

pub fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Generate(args) => generate(&args),
    }
}

fn generate(args: &KeysGenerateArgs) -> anyhow::Result<ExitCode> {
    for path in [&args.key_out, &args.cert_out] {
        if path.exists() && !args.force {
            bail!("{} exists; pass --force to overwrite", path.display());
        }
    }
    let (key_pem, cert_pem) = generate_pem(args.algorithm, &args.cn, &args.org, args.days)?;
    write_private(&args.key_out, &key_pem)?;
    std::fs::write(&args.cert_out, cert_pem)
        .with_context(|| format!("writing {}", args.cert_out.display()))?;
    eprintln!("wrote {} and {}", args.key_out.display(), args.cert_out.display());
    Ok(ExitCode::SUCCESS)
}

/// A new key (PKCS#8 PEM) and a self-signed certificate for it (PEM), valid from now for `days`.
pub fn generate_pem(
    algorithm: KeyAlgorithm,
    cn: &str,
    org: &str,
    days: u32,
) -> anyhow::Result<(String, String)> {
    let alg = match algorithm {
        KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
    };
    let key = rcgen::KeyPair::generate_for(alg).context("generating the key")?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).context("certificate parameters")?;
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    if !org.is_empty() {
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, org);
    }
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(i64::from(days));
    let cert = params.self_signed(&key).context("signing the certificate")?;
    Ok((key.serialize_pem(), cert.pem()))
}

/// Writes a private key readable by its owner only.
///
/// # Errors
/// When the file cannot be written.
pub(crate) fn write_private(path: &std::path::Path, pem: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(pem.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
