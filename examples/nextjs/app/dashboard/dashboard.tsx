"use client";
// Everything here talks to the IRONMIND API from the browser (another origin) through
// lib/api-client.ts, with the token of the signed-in user.
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { ApiError, createApi, signOut, type Task } from "@/lib/api-client";
import type { ApiConfig } from "@/lib/config";

type User = { id: string; name: string; email: string };

function describe(error: unknown): string {
  return error instanceof ApiError ? `API error ${error.message}` : String(error);
}

export function Dashboard({ user, config }: { user: User; config: ApiConfig }) {
  const api = useMemo(() => createApi(config), [config]);
  const [protectedResult, setProtectedResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [tasks, setTasks] = useState<Task[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [title, setTitle] = useState("");

  const run = useCallback(async (action: () => Promise<void>) => {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(describe(e));
    }
  }, []);

  useEffect(() => {
    void run(async () => {
      const page = await api.listTasks();
      setTasks(page.tasks);
      setNext(page.next);
      setLoaded(true);
    });
  }, [api, run]);

  const testProtected = () =>
    api.protected().then(
      (body) => setProtectedResult({ ok: true, text: body.user_id }),
      (e) => setProtectedResult({ ok: false, text: describe(e) }),
    );

  const loadMore = () =>
    run(async () => {
      if (!next) return;
      const page = await api.listTasks(next);
      setTasks((current) => [...current, ...page.tasks]);
      setNext(page.next);
    });

  const create = (event: FormEvent) => {
    event.preventDefault();
    const text = title.trim();
    if (!text) return;
    void run(async () => {
      const task = await api.createTask(text);
      setTasks((current) => [task, ...current]);
      setTitle("");
    });
  };

  const toggle = (task: Task) =>
    run(async () => {
      const updated = await api.setCompleted(task.id, !task.completed);
      setTasks((current) => current.map((t) => (t.id === updated.id ? updated : t)));
    });

  const remove = (task: Task) =>
    run(async () => {
      await api.deleteTask(task.id);
      setTasks((current) => current.filter((t) => t.id !== task.id));
    });

  const onSignOut = async () => {
    await signOut(config);
    window.location.assign("/");
  };

  return (
    <>
      <section className="card">
        <h1>Dashboard</h1>
        <p>
          Signed in as <strong data-testid="user-name">{user.name}</strong> (
          <span data-testid="user-email">{user.email}</span>)
        </p>
        <p>
          Better Auth user id: <code data-testid="user-id">{user.id}</code>
        </p>
        <p>
          API: <code>{config.apiUrl}</code>, token: <code data-testid="token-mode">{config.tokenMode}</code>
        </p>
        <div className="row">
          <button type="button" onClick={testProtected}>
            Test protected endpoint
          </button>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
        {protectedResult && (
          <p className={protectedResult.ok ? "ok" : "error"} data-testid="protected-result">
            {protectedResult.ok ? "API user_id: " : ""}
            <code data-testid={protectedResult.ok ? "protected-user-id" : "protected-error"}>
              {protectedResult.text}
            </code>
          </p>
        )}
      </section>

      <section className="card">
        <h2>Tasks</h2>
        <form className="row" onSubmit={create}>
          <input
            type="text"
            aria-label="New task"
            placeholder="New task"
            data-testid="new-task-title"
            value={title}
            maxLength={200}
            onChange={(e) => setTitle(e.target.value)}
          />
          <button type="submit">Add task</button>
        </form>
        {error && (
          <p className="error" role="alert" data-testid="tasks-error">
            {error}
          </p>
        )}
        <ul className="tasks" data-testid="tasks" data-loaded={loaded ? "true" : "false"}>
          {tasks.map((task) => (
            <li key={task.id} data-testid="task" data-task-id={task.id} className={task.completed ? "done" : ""}>
              <input
                type="checkbox"
                aria-label={`Completed: ${task.title}`}
                checked={task.completed}
                onChange={() => toggle(task)}
              />
              <span className="title">{task.title}</span>
              <button type="button" onClick={() => remove(task)}>
                Delete
              </button>
            </li>
          ))}
        </ul>
        {loaded && tasks.length === 0 && <p data-testid="no-tasks">No tasks yet.</p>}
        {next && (
          <button type="button" onClick={loadMore}>
            Load more
          </button>
        )}
      </section>
    </>
  );
}
