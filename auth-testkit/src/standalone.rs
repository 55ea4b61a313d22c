//! The standalone mode behind `cargo xtask emulator`.

use crate::{Emulator, Setup, StartOptions, sample};

/// Starts an emulator with [`Setup::sample`], prints its endpoints, the sample setup and
/// ready-to-run `curl` commands, and runs until Ctrl-C. With `tls`, serves HTTPS and
/// writes the CA certificate to a file in the temporary directory (its path is printed).
///
/// # Errors
/// When the emulator cannot start or the CA file cannot be written.
pub async fn run_standalone(tls: bool) -> std::io::Result<()> {
    run_standalone_with(StartOptions::new().tls(tls)).await
}

/// [`run_standalone`] with explicit options (fixed ports, TLS).
///
/// # Errors
/// When the emulator cannot start or the CA file cannot be written.
pub async fn run_standalone_with(options: StartOptions) -> std::io::Result<()> {
    let tls = options.tls;
    let emulator = Emulator::start_with_options(Setup::sample(), options).await?;
    let mut ca_note = String::new();
    let mut curl_ca = String::new();
    if tls {
        let path = std::env::temp_dir().join(format!(
            "auth-testkit-emulator-ca-{}.pem",
            std::process::id()
        ));
        emulator.write_ca_certificate(&path)?;
        ca_note = format!("CA certificate:    {}\n", path.display());
        curl_ca = format!(" --cacert {}", path.display());
    }
    let text = banner(&emulator, &ca_note, &curl_ca);
    // The standalone tool's whole purpose is to print this: sample (fake) credentials.
    #[allow(clippy::print_stdout)]
    {
        println!("{text}");
    }
    tokio::signal::ctrl_c().await?;
    drop(emulator);
    Ok(())
}

fn banner(e: &Emulator, ca_note: &str, curl_ca: &str) -> String {
    let authority = e.authority_host();
    let arm = e.arm_endpoint();
    format!(
        "auth-testkit emulator (Microsoft Entra ID + Azure Resource Manager) — Ctrl-C to stop\n\
         \n\
         Entra authority:   {authority}\n\
         Token endpoint:    {authority}/{tenant}/oauth2/v2.0/token\n\
         ARM endpoint:      {arm}\n\
         {ca_note}\
         \n\
         Sample setup (EMULATOR SAMPLE CREDENTIALS — fake, valid only against this emulator):\n\
         \x20 tenant id:       {tenant} ({domain})\n\
         \x20 client id:       {client}\n\
         \x20 client secret:   {secret}\n\
         \x20 user:            {user} / password {password} (MFA code, when asked: {mfa})\n\
         \x20 public client:   {cli} (Azure CLI; auth code + PKCE or device code)\n\
         \x20 subscription:    {sub}\n\
         \x20 resource group:  {rg}\n\
         \x20 workspace:       {ws}\n\
         \n\
         Get a token:\n\
         \x20 TOKEN=$(curl -s{curl_ca} {authority}/{tenant}/oauth2/v2.0/token \\\n\
         \x20   -d grant_type=client_credentials -d client_id={client} \\\n\
         \x20   --data-urlencode 'client_secret={secret}' \\\n\
         \x20   --data-urlencode 'scope=https://management.core.windows.net//.default' \\\n\
         \x20   | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n\
         Read the workspace:\n\
         \x20 curl -s{curl_ca} -H \"Authorization: Bearer $TOKEN\" \\\n\
         \x20   '{arm}subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}?api-version=2022-05-01'\n",
        tenant = sample::TENANT_ID,
        domain = sample::TENANT_DOMAIN,
        client = sample::CLIENT_ID,
        secret = sample::CLIENT_SECRET,
        user = sample::USER_NAME,
        password = sample::USER_PASSWORD,
        mfa = crate::MFA_CODE,
        cli = crate::AZURE_CLI_CLIENT_ID,
        sub = sample::SUBSCRIPTION_ID,
        rg = sample::RESOURCE_GROUP,
        ws = sample::WORKSPACE_NAME,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn banner_shows_endpoints_sample_credentials_and_curl_commands() {
        let e = Emulator::start(Setup::sample()).await.unwrap();
        let text = banner(&e, "", "");
        assert!(text.contains(&format!("Entra authority:   {}", e.authority_host())));
        assert!(text.contains(&format!("ARM endpoint:      {}", e.arm_endpoint())));
        assert!(text.contains("EMULATOR SAMPLE CREDENTIALS"));
        assert!(text.contains(sample::CLIENT_SECRET));
        assert!(text.contains("curl -s"));
        assert!(text.contains("workspaces/ws-demo?api-version=2022-05-01"));
    }
}
