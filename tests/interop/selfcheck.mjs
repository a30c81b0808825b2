#!/usr/bin/env node
// Self-check for the interop scripts: node selfcheck.mjs  (exit 0 = all good)
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, errors } from 'jose';

const here = dirname(fileURLToPath(import.meta.url));
const SECRET = 'selfcheck-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
let failures = 0;

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}\n     ${err?.stack ?? err}`);
  }
}

function mint(...args) {
  return execFileSync(process.execPath, [join(here, 'mint-exchange.mjs'), ...args], {
    env: { ...process.env, BETTER_AUTH_SECRET: SECRET },
    encoding: 'utf8',
  });
}

async function startServer(args = []) {
  const child = spawn(process.execPath, [join(here, 'better-auth-server.mjs'), '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BETTER_AUTH_SECRET: SECRET },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const line = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  const ready = JSON.parse(line);
  assert.equal(ready.ready, true);
  assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.kill('SIGTERM');
    });
  return { url: ready.url, child, stop };
}

async function post(url, body = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await r.json();
  assert.equal(r.status, 200, `${url} -> ${r.status} ${JSON.stringify(json)}`);
  return json;
}

const USER_KEYS = ['aud', 'createdAt', 'email', 'emailVerified', 'exp', 'iat', 'id', 'iss', 'name', 'sub', 'updatedAt'];

// ------------------------------------------------------------------ mint-exchange
await check('mint-exchange: header {alg: HS256}, payload only sub/iat/exp, 15 min, verifies', async () => {
  const token = mint('user-123');
  assert.ok(token.endsWith('\n') && !token.trim().includes('\n'), 'exactly one line on stdout');
  const t = token.trim();
  assert.deepEqual(decodeProtectedHeader(t), { alg: 'HS256' });
  const p = decodeJwt(t);
  assert.deepEqual(Object.keys(p).sort(), ['exp', 'iat', 'sub']);
  assert.equal(p.sub, 'user-123');
  assert.equal(p.exp - p.iat, 900);
  await jwtVerify(t, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
});

await check('mint-exchange: --exp -60 is expired, --iat 120 in the future, --no-exp has no exp', async () => {
  const now = Math.floor(Date.now() / 1000);
  const expired = mint('u', '--exp', '-60').trim();
  assert.ok(Math.abs(decodeJwt(expired).exp - (now - 60)) <= 2);
  await assert.rejects(jwtVerify(expired, new TextEncoder().encode(SECRET)), errors.JWTExpired);
  const future = decodeJwt(mint('u', '--iat', '120').trim());
  assert.ok(Math.abs(future.iat - (now + 120)) <= 2);
  const noExp = decodeJwt(mint('u', '--no-exp').trim());
  assert.deepEqual(Object.keys(noExp).sort(), ['iat', 'sub']);
});

await check('mint-exchange: fails clearly without BETTER_AUTH_SECRET', async () => {
  const env = { ...process.env };
  delete env.BETTER_AUTH_SECRET;
  assert.throws(
    () => execFileSync(process.execPath, [join(here, 'mint-exchange.mjs'), 'u'], { env, stdio: 'pipe' }),
    (err) => err.status === 2 && /BETTER_AUTH_SECRET/.test(String(err.stderr)),
  );
});

// ------------------------------------------------------------------ better-auth-server
async function checkServer(alg, extraArgs = []) {
  const server = await startServer([...(alg ? ['--alg', alg] : []), ...extraArgs]);
  const { url } = server;
  const expectAlg = alg ?? 'EdDSA';
  try {
    await check(`[${expectAlg}] /test/token: header alg + kid, payload claims, verifies against remote JWKS`, async () => {
      const { token, user } = await post(`${url}/test/token`, { email: 'alice@example.com', password: 'password1234', name: 'Alice' });
      const h = decodeProtectedHeader(token);
      assert.equal(h.alg, expectAlg);
      assert.ok(typeof h.kid === 'string' && h.kid.length > 0);
      const p = decodeJwt(token);
      assert.deepEqual(Object.keys(p).sort(), USER_KEYS);
      assert.equal(p.sub, user.id);
      assert.equal(p.id, user.id);
      assert.equal(p.email, 'alice@example.com');
      assert.equal(p.name, 'Alice');
      assert.equal(p.iss, url);
      assert.equal(p.aud, url);
      assert.equal(p.exp - p.iat, 900);
      const JWKS = createRemoteJWKSet(new URL(`${url}/api/auth/jwks`));
      await jwtVerify(token, JWKS, { issuer: url, audience: url, algorithms: [expectAlg] });

      // same user again -> sign-in path, same sub
      const again = await post(`${url}/test/token`, { email: 'alice@example.com', password: 'password1234', name: 'Alice' });
      assert.equal(again.user.id, user.id);

      // rotation: new kid, JWKS serves both, both verify
      const { kid } = await post(`${url}/test/rotate`);
      assert.notEqual(kid, h.kid);
      const rotated = await post(`${url}/test/token`, { email: 'bob@example.com', password: 'password1234', name: 'Bob' });
      assert.equal(decodeProtectedHeader(rotated.token).kid, kid);
      assert.equal(decodeProtectedHeader(rotated.token).alg, expectAlg);
      const JWKS2 = createRemoteJWKSet(new URL(`${url}/api/auth/jwks`));
      await jwtVerify(rotated.token, JWKS2, { issuer: url, audience: url });
      await jwtVerify(token, JWKS2, { issuer: url, audience: url });
      const jwks = await (await fetch(`${url}/api/auth/jwks`)).json();
      assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [h.kid, kid].sort());
    });
  } finally {
    const { code } = await server.stop();
    await check(`[${expectAlg}] server exits cleanly on SIGTERM`, () => assert.equal(code, 0));
  }
}

await checkServer(undefined);
for (const alg of ['ES256', 'RS256', 'PS256']) await checkServer(alg);

{
  const server = await startServer();
  const { url } = server;
  try {
    await check('real endpoints: sign-up/email, sign-in/email, token (cookie), jwks', async () => {
      // Node's fetch sends Sec-Fetch-* headers, so Better Auth's CSRF check wants an Origin
      // (curl / Python requests send neither and pass without it).
      const headers = { 'content-type': 'application/json', origin: url };
      const su = await fetch(`${url}/api/auth/sign-up/email`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ email: 'carol@example.com', password: 'password1234', name: 'Carol' }),
      });
      assert.equal(su.status, 200);
      const si = await fetch(`${url}/api/auth/sign-in/email`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ email: 'carol@example.com', password: 'password1234' }),
      });
      assert.equal(si.status, 200);
      const cookie = si.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const tr = await fetch(`${url}/api/auth/token`, { headers: { cookie } });
      assert.equal(tr.status, 200);
      const { token } = await tr.json();
      await jwtVerify(token, createRemoteJWKSet(new URL(`${url}/api/auth/jwks`)), { issuer: url, audience: url });
      assert.equal((await fetch(`${url}/api/auth/token`)).status, 401);
    });

    await check('/test/jwks-down -> 503, /test/jwks-up -> 200', async () => {
      await post(`${url}/test/jwks-down`);
      assert.equal((await fetch(`${url}/api/auth/jwks`)).status, 503);
      await post(`${url}/test/jwks-up`);
      assert.equal((await fetch(`${url}/api/auth/jwks`)).status, 200);
    });

    await check('/test/rotate {"dropOld": true} removes the old keys from the JWKS', async () => {
      const before = await post(`${url}/test/token`, { email: 'dave@example.com', password: 'password1234' });
      const oldKid = decodeProtectedHeader(before.token).kid;
      const { kid } = await post(`${url}/test/rotate`, { dropOld: true });
      const jwks = await (await fetch(`${url}/api/auth/jwks`)).json();
      assert.deepEqual(jwks.keys.map((k) => k.kid), [kid]);
      assert.notEqual(kid, oldKid);
      await assert.rejects(
        jwtVerify(before.token, createRemoteJWKSet(new URL(`${url}/api/auth/jwks`))),
        errors.JWKSNoMatchingKey,
      );
    });
  } finally {
    await server.stop();
  }
}

{
  const server = await startServer(['--audience', 'other-aud', '--issuer', 'other-iss']);
  try {
    await check('--audience / --issuer override the aud / iss claims', async () => {
      const { token } = await post(`${server.url}/test/token`, { email: 'eve@example.com', password: 'password1234', name: 'Eve' });
      const p = decodeJwt(token);
      assert.equal(p.aud, 'other-aud');
      assert.equal(p.iss, 'other-iss');
    });
  } finally {
    await server.stop();
  }
}

console.log(failures ? `\n${failures} check(s) FAILED` : '\nall checks passed');
process.exit(failures ? 1 : 0);
