import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ACR } from '@faceline/contracts';
import { authContextOf, strongestMet } from './auth-context.js';
import { mergeRegistrations, parseClientRegistrations, toAdminView, toProviderMetadata } from './clients.js';
import { providerCsp } from './provider.js';

const SECRET = 's'.repeat(40);

describe('OpenID Connect client registrations', () => {
  it('reads YAML and JSON alike and maps them to standard client metadata', () => {
    const yaml = parseClientRegistrations(
      `clients:\n  - clientId: grafana\n    clientSecret: "${SECRET}"\n    redirectUris: [https://g.example/login/generic_oauth]\n    firstParty: true\n  - clientId: hmi\n    public: true\n    loginMode: identify\n    redirectUris: [https://hmi.example/cb]\n    scopes: [openid, profile]\n`,
      'file',
    );
    assert.deepEqual(yaml.problems, []);
    const json = parseClientRegistrations(JSON.stringify({ clients: yaml.clients }), 'inline');
    assert.deepEqual(json.clients, yaml.clients);
    const [grafana, hmi] = yaml.clients.map(toProviderMetadata);
    assert.equal(grafana?.token_endpoint_auth_method, 'client_secret_basic');
    assert.deepEqual(grafana?.grant_types, ['authorization_code', 'refresh_token']);
    assert.equal(grafana?.id_token_signed_response_alg, 'ES256');
    assert.equal(hmi?.token_endpoint_auth_method, 'none');
    assert.equal(hmi?.client_secret, undefined);
    assert.deepEqual(hmi?.grant_types, ['authorization_code'], 'no offline_access among its scopes: no refresh tokens');
    const view = toAdminView(yaml.clients[1]!);
    assert.deepEqual([view.type, view.pkceRequired, view.loginMode, view.firstParty], ['public', true, 'identify', false]);
    assert.ok(!JSON.stringify(yaml.clients.map(toAdminView)).includes(SECRET), 'the admin view has no secret');
  });

  it('lists every mistake, with the client it belongs to', () => {
    const r = parseClientRegistrations(
      JSON.stringify({
        clients: [
          { clientId: 'a', redirectUris: ['https://a.example/cb'] },
          { clientId: 'b', public: true, clientSecret: SECRET, redirectUris: ['https://b.example/cb#frag'] },
          { clientId: 'c', clientSecret: 'short', redirectUris: ['https://c.example/cb'] },
          { clientId: 'd', clientSecret: SECRET, redirectUris: ['not a url'], scopes: ['profile'] },
          { clientId: 'e', clientSecret: SECRET, redirectUris: ['https://e.example/cb'], colour: 'blue' },
        ],
      }),
      'OIDC_CLIENTS',
    );
    const all = r.problems.join('\n');
    assert.match(all, /clients\[0\] \(a\): set clientSecret/);
    assert.match(all, /clients\[1\] \(b\): a public client has no clientSecret/);
    assert.match(all, /clients\[1\] \(b\)\.redirectUris\[0\]: .* must not have a fragment/);
    assert.match(all, /clients\[2\] \(c\)\.clientSecret: /);
    assert.match(all, /clients\[3\] \(d\)\.redirectUris\[0\]: "not a url" is not an absolute URL/);
    assert.match(all, /clients\[3\] \(d\): scopes must include openid/);
    assert.match(all, /clients\[4\] \(e\)\.colour: Unexpected property/);
    assert.deepEqual(parseClientRegistrations('clients: [', 'f').problems.length, 1);
    assert.match(parseClientRegistrations('[1, 2]', 'f').problems[0] ?? '', /must be an object with a "clients" list/);
    const twice = mergeRegistrations([
      parseClientRegistrations(
        JSON.stringify({ clients: [{ clientId: 'x', public: true, redirectUris: ['https://x.example/cb'] }] }),
        'one',
      ),
      parseClientRegistrations(
        JSON.stringify({ clients: [{ clientId: 'x', public: true, redirectUris: ['https://x.example/cb'] }] }),
        'two',
      ),
    ]);
    assert.deepEqual(twice.problems, ['OIDC client "x" is registered twice']);
    assert.equal(twice.clients.length, 1);
  });

  it("the provider's pages may send forms and redirects only to registered origins", () => {
    const { clients } = parseClientRegistrations(
      JSON.stringify({
        clients: [
          {
            clientId: 'g',
            clientSecret: SECRET,
            redirectUris: ['https://g.example/cb'],
            postLogoutRedirectUris: ['https://portal.example/'],
          },
        ],
      }),
      'x',
    );
    const csp = providerCsp(clients);
    assert.match(csp, /form-action 'self' https:\/\/g\.example https:\/\/portal\.example;/);
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /frame-ancestors 'none'/);
  });
});

describe('authContextOf', () => {
  it('says how a session was authenticated: the acr and amr its login recorded, auth_time when the face was shown', () => {
    const at = '2026-05-04T10:20:30.456Z';
    assert.deepEqual(authContextOf({ acr: ACR.FACE_LIVENESS, amr: ['face'], authTime: at }), {
      acr: ACR.FACE_LIVENESS,
      amr: ['face'],
      authTime: 1777890030,
      authTimeMs: 1777890030456,
    });
    assert.deepEqual(authContextOf({ acr: ACR.MFA, amr: ['face', 'hwk', 'mfa'], authTime: at }).amr, ['face', 'hwk', 'mfa']);
    assert.equal(authContextOf({ acr: ACR.TRUSTED_DEVICE, amr: ['face', 'kiosk'], authTime: at }).acr, ACR.TRUSTED_DEVICE);
  });

  it('claims the least for an acr it does not know, and face for an empty amr', () => {
    const c = authContextOf({ acr: 'urn:example:something-newer', amr: [], authTime: '2026-05-04T10:20:30.000Z' });
    assert.equal(c.acr, ACR.FACE);
    assert.deepEqual(c.amr, ['face']);
  });
});

describe('strongestMet', () => {
  it('answers an essential acr with the strongest requested value the login reached', () => {
    assert.equal(strongestMet(ACR.TRUSTED_DEVICE, [ACR.FACE_LIVENESS]), ACR.FACE_LIVENESS);
    assert.equal(strongestMet(ACR.MFA, [ACR.FACE, ACR.FACE_LIVENESS]), ACR.FACE_LIVENESS);
    assert.equal(strongestMet(ACR.FACE_LIVENESS, [ACR.FACE_LIVENESS, ACR.MFA]), ACR.FACE_LIVENESS);
    assert.equal(strongestMet(ACR.MFA, [ACR.MFA]), ACR.MFA);
  });

  it('meets nothing a weaker login did not reach, nor values it does not know', () => {
    assert.equal(strongestMet(ACR.FACE, [ACR.FACE_LIVENESS]), undefined);
    assert.equal(strongestMet(ACR.FACE_LIVENESS, [ACR.TRUSTED_DEVICE, ACR.MFA]), undefined);
    assert.equal(strongestMet(ACR.MFA, ['urn:example:other']), undefined);
  });
});
