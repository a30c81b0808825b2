// The human checklist of the Next.js <-> IRONMIND API integration, in headless Chromium.
// Started by e2e.sh once the app (next start) and the API (gunicorn) are up; one run per token
// mode (E2E_MODE). Every step prints a line and leaves a screenshot; the first failure exits 1.
// E2E_JOURNEY picks what to drive: "checklist" (the default, everything that should work), or
// one failure, which must end on a page that names its cause: "cors" (the API's CORS_ORIGINS
// lacks the app's origin), "secret" (the app's BETTER_AUTH_SECRET is not the API's; in
// jwt-plugin mode: not the one its auth database's keys were made with), "down" (no API).
//
// Environment: E2E_MODE (exchange | jwt-plugin), E2E_JOURNEY, APP_URL, API_URL, API_LOG (the
// API's stdout), SCREENSHOTS (a directory), CHROMIUM (default /usr/bin/chromium).
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

const mode = required("E2E_MODE");
const journey = process.env.E2E_JOURNEY || "checklist";
const appUrl = required("APP_URL").replace(/\/+$/, "");
const apiUrl = required("API_URL").replace(/\/+$/, "");
const apiLog = required("API_LOG");
const shots = join(required("SCREENSHOTS"), journey === "checklist" ? mode : `${mode}-${journey}`);
const run = `${Date.now().toString(36)}-${mode}-${journey}`;
const password = "correct horse battery staple";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

class StepFailed extends Error {}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StepFailed(message);
}

let stepNo = 0;

async function step(name: string, page: Page, body: () => Promise<void>) {
  stepNo += 1;
  const label = `${String(stepNo).padStart(2, "0")}-${name}`;
  const started = Date.now();
  try {
    await body();
  } catch (error) {
    await page.screenshot({ path: join(shots, `${label}-FAILED.png`), fullPage: true }).catch(() => {});
    console.error(`[e2e ${mode} ${journey}] FAIL ${label}: ${error instanceof Error ? error.message : error}`);
    throw error;
  }
  await page.screenshot({ path: join(shots, `${label}.png`), fullPage: true });
  console.log(`[e2e ${mode} ${journey}] ok   ${label} (${Date.now() - started} ms)`);
}

/** What the page sent to and got back from the API (Playwright sees the real browser traffic). */
type Exchange = { method: string; url: string; status: number; authorization?: string };

function watch(page: Page): Exchange[] {
  const seen: Exchange[] = [];
  page.on("response", (response) => {
    const request = response.request();
    const url = request.url();
    if (!url.startsWith(apiUrl) && !url.startsWith(`${appUrl}/api/auth/`)) return;
    seen.push({
      method: request.method(),
      url,
      status: response.status(),
      authorization: request.headers()["authorization"],
    });
  });
  page.on("pageerror", (error) => console.error(`[e2e ${mode} ${journey}] page error: ${error.message}`));
  return seen;
}

function lastBearer(seen: Exchange[]): string {
  const sent = seen.filter((e) => e.url.startsWith(apiUrl) && e.authorization?.startsWith("Bearer "));
  expect(sent.length, "no request to the API carried a bearer token");
  return sent[sent.length - 1].authorization!.slice("Bearer ".length);
}

/** Revoke a token at the API (signing out with a frontend token revokes exactly that token). */
async function revokeAtApi(token: string) {
  const res = await fetch(`${apiUrl}/api/auth/signout`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(res.status === 200, `revoking the page's token at the API: ${res.status}`);
}

/**
 * Ask the API with `token` until it is refused, and expect `401 token_revoked` no later than
 * `allowedMs` after `since`. Prints how long the refusal took.
 */
async function expectRefused(token: string, since: number, allowedMs: number, what: string) {
  for (;;) {
    const res = await fetch(`${apiUrl}/api/protected`, { headers: { Authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { error?: string };
    const after = Date.now() - since;
    if (res.status !== 200 || after > allowedMs) {
      expect(
        res.status === 401 && body.error === "token_revoked",
        `${what} still gets ${res.status} ${body.error ?? ""} ${after} ms after sign out`,
      );
      console.log(`[e2e ${mode} ${journey}]      ${what}: refused ${after} ms after sign out`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function register(context: BrowserContext, who: string) {
  const page = await context.newPage();
  const seen = watch(page);
  const email = `${who}-${run}@example.com`;
  await step(`register-${who}`, page, async () => {
    await page.goto(`${appUrl}/register`);
    await page.getByLabel("Name").fill(`${who} ${mode}`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${appUrl}/dashboard`);
    await page.locator('[data-testid="tasks"][data-loaded="true"]').waitFor({ state: "attached" });
  });
  const userId = (await page.getByTestId("user-id").textContent())?.trim() ?? "";
  return { page, seen, email, userId };
}

async function taskTitles(page: Page) {
  return page.locator('[data-testid="task"] .title').allTextContents();
}

async function waitForTaskCount(page: Page, count: number) {
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="task"]').length === n,
    count,
  );
}

async function reloadDashboard(page: Page) {
  await page.reload();
  await page.locator('[data-testid="tasks"][data-loaded="true"]').waitFor({ state: "attached" });
}

function apiLogLines(): Record<string, unknown>[] {
  return readFileSync(apiLog, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function main() {
  mkdirSync(shots, { recursive: true });
  const browser: Browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const journeys: Record<string, (browser: Browser) => Promise<void>> = {
      checklist,
      cors: corsRefused,
      secret: wrongSecret,
      down: apiDown,
    };
    const drive = journeys[journey];
    if (!drive) throw new Error(`E2E_JOURNEY must be one of ${Object.keys(journeys).join(", ")}; got ${journey}`);
    await drive(browser);
  } finally {
    await browser.close();
  }
}

async function checklist(browser: Browser) {
  const contextA = await browser.newContext();
  contextA.setDefaultTimeout(15_000);
  const a = await register(contextA, "ada");
  const { page } = a;

  await step("dashboard-shows-user", page, async () => {
    expect(a.userId.length > 0, "the dashboard shows no user id");
    expect((await page.getByTestId("user-email").textContent()) === a.email, "wrong email shown");
    expect((await page.getByTestId("token-mode").textContent()) === mode, "the app runs another token mode");
  });

  await step("protected-endpoint", page, async () => {
    await page.getByRole("button", { name: "Test protected endpoint" }).click();
    const shown = await page.getByTestId("protected-user-id").textContent();
    expect(shown === a.userId, `the API's user_id ${shown} is not the Better Auth user id ${a.userId}`);
    // The token the browser sent is the one this mode promises.
    const token = lastBearer(a.seen);
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    expect(claims.sub === a.userId, "the token's sub is not the user id");
    // Both modes name the Better Auth session (sid), which the API checks is still alive.
    expect(typeof claims.sid === "string" && claims.sid.length > 0, `the token has no sid: ${claims.sid}`);
    if (mode === "exchange") {
      expect(header.alg === "HS256", `exchange token alg ${header.alg}`);
      expect(
        JSON.stringify(Object.keys(claims).sort()) === JSON.stringify(["exp", "iat", "sid", "sub"]),
        `exchange token claims ${Object.keys(claims)}`,
      );
      expect(claims.exp! - claims.iat! === 900, "exchange token does not live 15 minutes");
    } else {
      expect(header.alg === "EdDSA", `JWT plugin token alg ${header.alg}`);
      expect(claims.iss === appUrl && claims.aud === appUrl, "JWT plugin token iss/aud is not the app URL");
      // definePayload: the user's fields plus sid and role (the admin plugin's, "user" here).
      expect(claims.role === "user", `JWT plugin token role ${JSON.stringify(claims.role)}`);
      expect(claims.email === a.email, "JWT plugin token lost the user's fields");
    }
    // The browser made a CORS preflight (Authorization is not a simple header): the API logged it.
    const preflight = apiLogLines().some((l) => l.method === "OPTIONS" && l.path === "/api/protected" && l.status === 200);
    expect(preflight, "no OPTIONS preflight for /api/protected in the API log");
  });

  await step("create-three-tasks", page, async () => {
    for (const title of ["first task", "second task", "third task"]) {
      await page.getByTestId("new-task-title").fill(title);
      await page.getByRole("button", { name: "Add task" }).click();
      await page.locator('[data-testid="task"] .title', { hasText: title }).waitFor();
    }
    await waitForTaskCount(page, 3);
    const titles = await taskTitles(page);
    expect(titles.join("|") === "third task|second task|first task", `tasks shown: ${titles}`);
  });

  await step("reload-and-load-more", page, async () => {
    await reloadDashboard(page);
    await waitForTaskCount(page, 2); // TASKS_PAGE_SIZE=2: the third is on the next page
    await page.getByRole("button", { name: "Load more" }).click();
    await waitForTaskCount(page, 3);
    const titles = await taskTitles(page);
    expect(titles.join("|") === "third task|second task|first task", `tasks after load more: ${titles}`);
    expect(!(await page.getByRole("button", { name: "Load more" }).isVisible()), "Load more after the last page");
    expect(a.seen.some((e) => e.url.includes("cursor=") && e.status === 200), "no request followed the Link header");
  });

  await step("toggle-and-delete", page, async () => {
    // A controlled checkbox: it shows the new state once the API has answered the PATCH.
    await page.getByRole("checkbox", { name: "Completed: second task" }).click();
    await page.locator('[data-testid="task"].done .title', { hasText: "second task" }).waitFor();
    await page.locator('[data-testid="task"]', { hasText: "first task" }).getByRole("button", { name: "Delete" }).click();
    await waitForTaskCount(page, 2);
    expect(!(await page.getByTestId("tasks-error").isVisible()), "the dashboard shows an error");
  });

  await step("reload-shows-the-same-two", page, async () => {
    await reloadDashboard(page);
    await waitForTaskCount(page, 2);
    const titles = await taskTitles(page);
    expect(titles.join("|") === "third task|second task", `tasks after reload: ${titles}`);
    expect(await page.getByRole("checkbox", { name: "Completed: second task" }).isChecked(), "toggle was lost");
    expect(!(await page.getByRole("checkbox", { name: "Completed: third task" }).isChecked()), "wrong task toggled");
    expect(!(await page.getByRole("button", { name: "Load more" }).isVisible()), "Load more with only two tasks");
  });

  await step("retry-with-a-fresh-token-on-401", page, async () => {
    // Revoke the token the page holds, at the API; the client must get a new one and retry.
    const revoked = lastBearer(a.seen);
    await revokeAtApi(revoked);
    // Next second, so the fresh token differs from the revoked one (iat has 1 s resolution).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const before = a.seen.length;
    await page.getByRole("button", { name: "Test protected endpoint" }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=protected-user-id]").length === 1);
    await page.waitForFunction(
      (id) => document.querySelector("[data-testid=protected-user-id]")?.textContent === id,
      a.userId,
    );
    const calls = a.seen.slice(before).filter((e) => e.url === `${apiUrl}/api/protected` && e.method === "GET");
    expect(calls.length === 2, `expected 2 calls to /api/protected, saw ${calls.length}`);
    expect(calls[0].status === 401 && calls[1].status === 200, `statuses ${calls.map((c) => c.status)}`);
    expect(calls[0].authorization === `Bearer ${revoked}`, "the first try did not use the cached token");
    expect(calls[1].authorization !== calls[0].authorization, "the retry reused the revoked token");
  });

  await step("api-without-token-is-401", page, async () => {
    const result = await page.evaluate(async (url) => {
      const res = await fetch(`${url}/api/protected`);
      return { status: res.status, body: await res.json() };
    }, apiUrl);
    expect(result.status === 401, `GET /api/protected without a token: ${result.status}`);
    expect(result.body.error === "missing_token", `error ${JSON.stringify(result.body)}`);
  });

  // A second user, in a browser context of their own, never sees the first user's tasks.
  const contextB = await browser.newContext();
  contextB.setDefaultTimeout(15_000);
  const b = await register(contextB, "bob");
  await step("second-user-sees-only-own-tasks", b.page, async () => {
    expect(b.userId && b.userId !== a.userId, "the second user has the first user's id");
    await b.page.getByTestId("no-tasks").waitFor();
    await b.page.getByTestId("new-task-title").fill("bob's task");
    await b.page.getByRole("button", { name: "Add task" }).click();
    await waitForTaskCount(b.page, 1);
    await reloadDashboard(b.page);
    await waitForTaskCount(b.page, 1);
    const titles = await taskTitles(b.page);
    expect(titles.join("|") === "bob's task", `second user's tasks: ${titles}`);
    // Even asked directly, the API does not show Bob one of Ada's tasks.
    const adaTask = await page.locator('[data-testid="task"]').first().getAttribute("data-task-id");
    const res = await fetch(`${apiUrl}/api/tasks/${adaTask}`, {
      headers: { Authorization: `Bearer ${lastBearer(b.seen)}` },
    });
    expect(res.status === 404, `Bob reading Ada's task: ${res.status}`);
  });

  await step("first-user-still-sees-two", page, async () => {
    await reloadDashboard(page);
    await waitForTaskCount(page, 2);
    const titles = await taskTitles(page);
    expect(titles.join("|") === "third task|second task", `first user's tasks: ${titles}`);
  });

  const tokenPath = mode === "exchange" ? "/api/auth/backend-token" : "/api/auth/token";
  let captured = "";
  await step("capture-a-token-of-the-session", page, async () => {
    // A token the app's own token route mints for this session, as the client fetches it. The
    // app's sign-out revokes only the token it holds at the API, never this one: only the end
    // of the Better Auth session (its sid) can stop it.
    captured = await page.evaluate(async (path) => {
      const res = await fetch(path);
      return ((await res.json()) as { token: string }).token;
    }, tokenPath);
    expect(decodeJwt(captured).sid === decodeJwt(lastBearer(a.seen)).sid, "the captured token names another session");
    const res = await fetch(`${apiUrl}/api/protected`, { headers: { Authorization: `Bearer ${captured}` } });
    expect(res.status === 200, `the captured token is refused before sign out: ${res.status}`);
  });

  let signedOutAt = 0;
  await step("sign-out", page, async () => {
    const held = lastBearer(a.seen);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${appUrl}/`);
    signedOutAt = Date.now();
    // The session is gone: no token for this browser any more ...
    const status = await page.evaluate(async (path) => (await fetch(path)).status, tokenPath);
    expect(status === 401, `${tokenPath} after sign out: ${status}`);
    // ... and the token it held was revoked at the API: on every worker within milliseconds
    // (its copy of the revocation list hears a NOTIFY); as in the API's tests, 1 s is allowed.
    await expectRefused(held, signedOutAt, 1000, "the signed-out token");
  });

  await step("token-captured-before-sign-out-is-refused", page, async () => {
    // The API reads Better Auth's session table (BETTER_AUTH_DATABASE_URL): the session the
    // token's sid names has ended, so the token is refused although nobody revoked it. The
    // contract is "within a second": a worker that accepted this token in the step before may
    // answer from its 1 s cache until then; 0.5 s more for the requests themselves.
    await expectRefused(captured, signedOutAt, 1500, "a token of the signed-out session");
  });

  await step("dashboard-redirects-to-login", page, async () => {
    await page.goto(`${appUrl}/dashboard`);
    await page.waitForURL(`${appUrl}/login`);
  });

  await step("sign-in-again", page, async () => {
    await page.getByLabel("Email").fill(a.email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${appUrl}/dashboard`);
    await page.locator('[data-testid="tasks"][data-loaded="true"]').waitFor({ state: "attached" });
    expect((await page.getByTestId("user-id").textContent()) === a.userId, "signed in as someone else");
    expect((await taskTitles(page)).join("|") === "third task|second task", "tasks after signing in again");
  });

  await step("refused-token-and-no-session-go-to-login", page, async () => {
    // The API refuses the page's token and the session has ended meanwhile (cookies gone):
    // the client cannot get a fresh token, so it sends the user to /login.
    await revokeAtApi(lastBearer(a.seen));
    await contextA.clearCookies();
    await page.getByRole("button", { name: "Test protected endpoint" }).click();
    await page.waitForURL(`${appUrl}/login`);
  });

  await step("api-log-has-the-user", page, async () => {
    const lines = apiLogLines();
    const access = lines.find(
      (l) => l.message === "request" && l.method === "GET" && l.path === "/api/protected" &&
        l.status === 200 && l.user_id === a.userId,
    );
    expect(access, `no JSON access line for GET /api/protected with user_id ${a.userId}`);
    expect(typeof access.request_id === "string" && typeof access.duration_ms === "number", "access line fields");
    const text = readFileSync(apiLog, "utf8");
    expect(!text.includes(lastBearer(a.seen)), "a bearer token reached the API log");
  });

  await contextB.close();
  await contextA.close();
}

// ---- the failure journeys: each ends on a page that says what is wrong and what to set

/** Register on the app and land on the dashboard, whatever the dashboard then manages to show. */
async function registerOnly(browser: Browser, who: string) {
  const context = await browser.newContext();
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  watch(page);
  await step(`register-${who}`, page, async () => {
    await page.goto(`${appUrl}/register`);
    await page.getByLabel("Name").fill(`${who} ${mode}`);
    await page.getByLabel("Email").fill(`${who}-${run}@example.com`);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${appUrl}/dashboard`);
  });
  return { context, page };
}

/** The notice `testId` is shown, of this kind, and says each of `texts`. */
async function expectProblem(page: Page, testId: string, kind: string, texts: string[]) {
  const notice = page.getByTestId(testId);
  await notice.waitFor();
  const text = await notice.innerText();
  const shown = await notice.getAttribute("data-kind");
  expect(shown === kind, `${testId} is a "${shown}" notice, not "${kind}": ${text}`);
  for (const expected of texts) expect(text.includes(expected), `${testId} does not say "${expected}": ${text}`);
}

async function corsRefused(browser: Browser) {
  // This app runs on a port of its own with BETTER_AUTH_URL unset: registering works only
  // because Better Auth's URL follows the port. The API does not list this origin.
  const { context, page } = await registerOnly(browser, "cora");
  await step("tasks-name-the-refused-origin", page, async () => {
    await expectProblem(page, "tasks-error", "cors", ["refused this origin (CORS)", appUrl, "CORS_ORIGINS"]);
  });
  await step("protected-names-the-refused-origin", page, async () => {
    await page.getByRole("button", { name: "Test protected endpoint" }).click();
    await expectProblem(page, "protected-error", "cors", ["refused this origin (CORS)", appUrl]);
  });
  await context.close();
}

/** The same app opened at http://localhost:<port>, an origin its BETTER_AUTH_URL does not name. */
async function otherOriginIsExplained(browser: Browser) {
  const context = await browser.newContext();
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const elsewhere = appUrl.replace("://127.0.0.1:", "://localhost:");
  await step("register-from-another-origin-says-what-to-set", page, async () => {
    await page.goto(`${elsewhere}/register`);
    await page.getByLabel("Name").fill(`eve ${mode}`);
    await page.getByLabel("Email").fill(`eve-${run}@example.com`);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    const text = await page.getByTestId("auth-error").innerText();
    for (const expected of ["Invalid origin", `this page is ${elsewhere}`, `BETTER_AUTH_URL is ${appUrl}`]) {
      expect(text.includes(expected), `the sign-up error does not say "${expected}": ${text}`);
    }
  });
  await context.close();
}

async function wrongSecret(browser: Browser) {
  // This app's BETTER_AUTH_URL is set (to 127.0.0.1): opened at localhost, Better Auth refuses.
  await otherOriginIsExplained(browser);
  const { context, page } = await registerOnly(browser, "sam");
  if (mode === "exchange") {
    // The app signs its HS256 tokens with a secret the API does not have.
    await step("tasks-name-the-secret-mismatch", page, async () => {
      await expectProblem(page, "tasks-error", "secret", [
        "Secret mismatch", "invalid_token", "Signature verification failed", "BETTER_AUTH_SECRET",
      ]);
    });
    await step("api-log-says-why", page, async () => {
      const refused = apiLogLines().find(
        (l) => l.message === "request" && l.path === "/api/tasks" && l.status === 401 && l.error === "invalid_token",
      );
      expect(refused, "no access line for GET /api/tasks with status 401 and error invalid_token");
    });
  } else {
    // JWT-plugin tokens do not use the shared secret, but Better Auth encrypted its signing
    // keys with the secret it had: with another one, its auth database is unreadable.
    await step("dashboard-names-the-changed-secret", page, async () => {
      await expectProblem(page, "setup-error", "secret-changed", ["BETTER_AUTH_SECRET changed", "decrypt"]);
    });
  }
  await context.close();
}

async function apiDown(browser: Browser) {
  const { context, page } = await registerOnly(browser, "dan");
  await step("tasks-say-the-api-is-unreachable", page, async () => {
    await expectProblem(page, "tasks-error", "unreachable", ["could not be reached", apiUrl, "API_URL"]);
  });
  await step("protected-says-the-api-is-unreachable", page, async () => {
    await page.getByRole("button", { name: "Test protected endpoint" }).click();
    await expectProblem(page, "protected-error", "unreachable", ["could not be reached", apiUrl]);
  });
  await context.close();
}

main().then(
  () => console.log(`[e2e ${mode} ${journey}] all ${stepNo} steps passed`),
  (error) => {
    if (!(error instanceof StepFailed)) console.error(error);
    process.exit(1);
  },
);
