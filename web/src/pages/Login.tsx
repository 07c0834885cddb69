import { useEffect, useState, type FormEvent } from 'react';
import { login, whoami, type WhoAmI } from '../api';

export function LoginPage({ notice, onLoggedIn }: { notice: string | null; onLoggedIn: (me: WhoAmI) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'Sign in · Gantry';
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await login(username, password);
      // whoami adds tenants and the auth kind; the login answer is enough if it fails.
      const me = await whoami().catch(
        (): WhoAmI => ({ ...r.user, tenants: [], auth: 'session', csrf_token: r.csrf_token }),
      );
      setPassword('');
      onLoggedIn(me);
    } catch (err) {
      setError((err as Error).message || 'Login failed');
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login-wrap">
      <form className="card login" onSubmit={submit} data-testid="login-form">
        <h1 className="login-brand">Gantry</h1>
        <p className="muted">GPU cluster operations</p>
        {notice && (
          <div className="alert alert-info" data-testid="login-notice">
            {notice}
          </div>
        )}
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            autoFocus
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            data-testid="login-username"
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="login-password"
          />
        </label>
        {error && (
          <div className="alert alert-error" role="alert" data-testid="login-error">
            {error}
          </div>
        )}
        <button className="btn btn-primary" type="submit" disabled={busy} data-testid="login-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
