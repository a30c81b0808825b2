#!/usr/bin/env node
// Mints an HS256 token exactly as the Next.js frontend's token-exchange route does:
//
//   await new SignJWT({ sub: userId })
//     .setProtectedHeader({ alg: 'HS256' })
//     .setIssuedAt()
//     .setExpirationTime('15m')
//     .sign(new TextEncoder().encode(process.env.BETTER_AUTH_SECRET))
//
// Usage: node mint-exchange.mjs <sub> [--exp <seconds-from-now>] [--iat <seconds-from-now>] [--no-exp]
//                                    [--sid <Better Auth session id>]
// Prints only the token (plus a newline) on stdout.
import { SignJWT } from 'jose';

const USAGE =
  'usage: node mint-exchange.mjs <sub> [--exp <seconds-from-now>] [--iat <seconds-from-now>] [--no-exp] [--sid <id>]';

function fail(msg) {
  process.stderr.write(`mint-exchange: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const out = { sub: undefined, exp: undefined, iat: undefined, noExp: false, sid: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--exp' || a === '--iat') {
      const v = argv[++i];
      if (v === undefined || !/^-?\d+$/.test(v)) fail(`${a} needs an integer number of seconds`);
      out[a.slice(2)] = Number(v);
    } else if (a === '--sid') {
      out.sid = argv[++i];
      if (!out.sid) fail('--sid needs a session id');
    } else if (a === '--no-exp') {
      out.noExp = true;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a.startsWith('--')) {
      fail(`unknown option ${a}`);
    } else if (out.sub === undefined) {
      out.sub = a;
    } else {
      fail(`unexpected argument ${a}`);
    }
  }
  if (out.sub === undefined) fail('missing <sub>');
  if (out.noExp && out.exp !== undefined) fail('--no-exp and --exp are exclusive');
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (!process.env.BETTER_AUTH_SECRET) fail('environment variable BETTER_AUTH_SECRET is not set');
const userId = args.sub;
// The session-bound exchange: the frontend adds the Better Auth session id as `sid`.
const claims = args.sid === undefined ? { sub: userId } : { sub: userId, sid: args.sid };

let token;
if (args.exp === undefined && args.iat === undefined && !args.noExp && args.sid === undefined) {
  // Default path: byte-for-byte the frontend pattern.
  token = await new SignJWT({ sub: userId })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(process.env.BETTER_AUTH_SECRET));
} else {
  // Variants: a session id, or shifted iat / exp (absolute epoch seconds) for negative tests.
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' });
  jwt = args.iat === undefined ? jwt.setIssuedAt() : jwt.setIssuedAt(now + args.iat);
  if (!args.noExp) {
    jwt = args.exp === undefined ? jwt.setExpirationTime('15m') : jwt.setExpirationTime(now + args.exp);
  }
  token = await jwt.sign(new TextEncoder().encode(process.env.BETTER_AUTH_SECRET));
}

process.stdout.write(`${token}\n`);
