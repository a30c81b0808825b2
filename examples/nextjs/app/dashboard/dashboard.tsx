"use client";
// Everything here talks to the IRONMIND API from the browser (another origin) through
// lib/api-client.ts, with the token of the signed-in user.
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { createApi, explain, signOut, type ApiConfig, type Problem, type Task } from "@/lib/api-client";

type User = { id: string; name: string; email: string };

/** What went wrong, said once: the cause, the API's `error` code and message, what to do. */
function ProblemNotice({ problem, testId }: { problem: Problem; testId: string }) {
  return (
    <div className="error problem" role="alert" data-testid={testId} data-kind={problem.kind}>
      <strong data-testid="problem-title">{problem.title}</strong>
      {problem.code && (
        <>
          {" "}
          <code data-testid="problem-code">{problem.code}</code>
        </>
      )}
      <p data-testid="problem-message">{problem.message}</p>
      {problem.hint && <p className="hint">{problem.hint}</p>}
    </div>
  );
}

export function Dashboard({ user, config }: { user: User; config: ApiConfig }) {
  const api = useMemo(() => createApi(config), [config]);
  const [protectedResult, setProtectedResult] = useState<{ userId: string } | { problem: Problem } | null>(null);
  const [tasks, setTasks] = useState<Task[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<Problem | null>(null);
  const [title, setTitle] = useState("");

  const run = useCallback(async (action: () => Promise<void>) => {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(explain(e, config));
    }
  }, [config]);

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
      (body) => setProtectedResult({ userId: body.user_id }),
      (e) => setProtectedResult({ problem: explain(e, config) }),
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
        {protectedResult && "userId" in protectedResult && (
          <p className="ok" data-testid="protected-result">
            API user_id: <code data-testid="protected-user-id">{protectedResult.userId}</code>
          </p>
        )}
        {protectedResult && "problem" in protectedResult && (
          <ProblemNotice problem={protectedResult.problem} testId="protected-error" />
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
        {error && <ProblemNotice problem={error} testId="tasks-error" />}
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
