//! `rsmev keys generate`.

use std::process::ExitCode;

use anyhow::{Context as _, bail};

use rsmev_broker::dsig::SignatureAlgorithm;
use rsmev_broker::dsig::gost::{GostSigningKey, ParamSet, subject_name};

use crate::cli::{KeyAlgorithm, KeysCommand, KeysGenerateArgs};

pub(super) fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
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
    if args.paramset.is_some() && args.algorithm != KeyAlgorithm::Gost2012_256 {
        bail!("--paramset applies to --algorithm gost2012-256 only");
    }
    let (key_pem, cert_pem) = match args.algorithm {
        KeyAlgorithm::Gost2012_256 => generate_gost_pem(
            args.paramset.unwrap_or(ParamSet::CryptoProA),
            &args.cn,
            &args.org,
            args.days,
        )?,
        other => generate_pem(other, &args.cn, &args.org, args.days)?,
    };
    write_private(&args.key_out, &key_pem)?;
    std::fs::write(&args.cert_out, cert_pem)
        .with_context(|| format!("writing {}", args.cert_out.display()))?;
    eprintln!("wrote {} and {}", args.key_out.display(), args.cert_out.display());
    Ok(ExitCode::SUCCESS)
}

/// A new key (PKCS#8 PEM) and a self-signed certificate for it (PEM), valid from now for `days`.
pub(super) fn generate_pem(
    algorithm: KeyAlgorithm,
    cn: &str,
    org: &str,
    days: u32,
) -> anyhow::Result<(String, String)> {
    let alg = match algorithm {
        KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
        KeyAlgorithm::Gost2012_256 => return generate_gost_pem(ParamSet::CryptoProA, cn, org, days),
    };
    rsmev_broker::node::generate_self_signed_with(alg, cn, org, days)
        .map_err(anyhow::Error::msg)
        .context("generating the key and certificate")
}

/// A new GOST R 34.10-2012 (256-bit) key on `param_set` (PKCS#8 PEM as the OpenSSL gost engine
/// writes it) and a self-signed certificate for it (PEM), valid from now for `days`.
pub(super) fn generate_gost_pem(
    param_set: ParamSet,
    cn: &str,
    org: &str,
    days: u32,
) -> anyhow::Result<(String, String)> {
    let key = GostSigningKey::generate(SignatureAlgorithm::Gost2012_256, param_set)
        .context("generating the key")?;
    let now = time::OffsetDateTime::now_utc();
    let cert = key
        .self_signed_certificate(
            &subject_name(cn, org).context("the certificate subject")?,
            now - time::Duration::minutes(5),
            now + time::Duration::days(i64::from(days)),
        )
        .context("signing the certificate")?;
    let key_pem = key.to_pkcs8_pem().context("encoding the key")?;
    Ok((key_pem.as_str().to_owned(), cert.to_pem()))
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
