/** What holds a credential, by its name or what it has in it: what a checkpoint and a WO's branch never take on. */

/**
 * Whether a path names a file that holds credentials by its name alone: keys, a
 * shell's `.env`, package registries' and git's credential files. A checkpoint
 * never adds one (thirty-fourth trials: `.env`, an `.ssh` key and an `.npmrc`
 * token went onto the branch every later holder checks out); samples and
 * public keys are not.
 */
export function isCredentialPath(path: string): boolean {
  const parts = path.split("/");
  // Any case: on a case-insensitive file system `.ENV` is `.env` (thirty-sixth MCP trial).
  const name = (parts.at(-1) ?? "").toLowerCase();
  if (parts.slice(0, -1).some((p) => p === ".ssh" || p === ".gnupg" || p === ".aws")) return !name.endsWith(".pub") && name !== "config";
  // Registries' and CLIs' logins (thirty-sixth trials: docker's auths and gh's hosts went onto the branch).
  if (/(^|\/)(\.docker\/config\.json|\.config\/gh\/hosts\.yml|\.kube\/config)$/.test(path)) return true;
  if (/^\.env(\..+)?$/.test(name)) return !/\.(example|sample|template|dist|defaults?)$/.test(name);
  return /^(id_(rsa|dsa|ecdsa|ed25519)(_sk)?|\.netrc|\.git-credentials|\.pypirc|\.pgpass)$/.test(name);
}

/**
 * What a file holding a credential has in it, whatever its name (thirty-fifth
 * trials: `tls.key` and `deploy_key` with a private key, a `ghp_` token in a
 * text file went onto the branch): private keys, well-known token formats, an
 * `.npmrc`'s token.
 */
export const CREDENTIAL = new RegExp(
  [
    "-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----",
    "gh[pousr]_[A-Za-z0-9]{36}",
    "github_pat_[A-Za-z0-9_]{22,}",
    "AKIA[0-9A-Z]{16}",
    "xox[abprs]-[A-Za-z0-9-]{10,}",
    "sk-(ant|proj)-[A-Za-z0-9_-]{20,}",
    "glpat-[A-Za-z0-9_-]{20,}",
    "_authToken[ ]*=[ ]*[^ $]",
  ].join("|"),
);
