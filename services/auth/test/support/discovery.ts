/**
 * OpenID Connect Discovery 1.0 (section 3, Provider Metadata) as a checklist, shared by the
 * system tests and the Chromium test: every REQUIRED field, the RECOMMENDED ones relying
 * parties here use, and the rules on their values. Returns the problems; empty when it conforms.
 */
export function discoveryProblems(doc: Record<string, unknown>, issuer: string): string[] {
  const problems: string[] = [];
  const str = (k: string) => typeof doc[k] === 'string' && (doc[k] as string).length > 0;
  const list = (k: string) =>
    Array.isArray(doc[k]) && (doc[k] as unknown[]).length > 0 && (doc[k] as unknown[]).every((v) => typeof v === 'string');
  for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri']) if (!str(k)) problems.push(`${k} missing`);
  for (const k of ['response_types_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported'])
    if (!list(k)) problems.push(`${k} missing`);
  // RECOMMENDED, and what every relying party here uses
  for (const k of ['userinfo_endpoint']) if (!str(k)) problems.push(`${k} missing`);
  for (const k of ['scopes_supported', 'claims_supported']) if (!list(k)) problems.push(`${k} missing`);
  if (doc.issuer !== issuer) problems.push(`issuer ${String(doc.issuer)} is not ${issuer}`);
  for (const k of [
    'authorization_endpoint',
    'token_endpoint',
    'jwks_uri',
    'userinfo_endpoint',
    'end_session_endpoint',
    'revocation_endpoint',
    'introspection_endpoint',
  ]) {
    if (str(k) && !(doc[k] as string).startsWith(`${issuer}/`)) problems.push(`${k} is not under the issuer`);
  }
  const algs = (doc.id_token_signing_alg_values_supported as string[] | undefined) ?? [];
  if (!algs.includes('RS256')) problems.push('id_token_signing_alg_values_supported must include RS256');
  if (algs.includes('none')) problems.push('none must not be offered for ID tokens');
  const subjects = (doc.subject_types_supported as string[] | undefined) ?? [];
  if (subjects.some((s) => s !== 'public' && s !== 'pairwise')) problems.push('subject_types_supported has unknown values');
  if (!((doc.scopes_supported as string[] | undefined) ?? []).includes('openid')) problems.push('scopes_supported must include openid');
  if (!((doc.response_types_supported as string[] | undefined) ?? []).includes('code'))
    problems.push('response_types_supported must include code (dynamic OpenID providers)');
  return problems;
}
