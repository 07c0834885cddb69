import { useEffect, useState } from 'react';
import { ApiError, logout, setUnauthorizedHandler, whoami, type WhoAmI } from './api';
import { navigate, useHashRoute } from './hooks';
import { LoginPage } from './pages/Login';
import { JobsPage } from './pages/Jobs';
import { AuditPage } from './pages/Audit';
import { CmdbPage } from './pages/cmdb/Cmdb';
import { TenantsPage } from './pages/tenants/Tenants';
import { ComingSoon } from './pages/ComingSoon';
import { BillingPage } from './pages/Billing';
import { HardwarePage } from './pages/Hardware';
import { MonitoringPage } from './pages/Monitoring';

type AuthState = { status: 'loading' } | { status: 'anon' } | { status: 'authed'; me: WhoAmI };

interface NavItem {
  key: string;
  label: string;
  soon?: string; // placeholder pages: what the domain will hold
}

export const NAV: NavItem[] = [
  { key: 'jobs', label: 'Jobs' },
  { key: 'audit', label: 'Audit' },
  { key: 'cmdb', label: 'CMDB' },
  { key: 'hardware', label: 'Hardware' },
  { key: 'nodes', label: 'Nodes', soon: 'Node lifecycle: provisioning, cordon/drain, health and maintenance.' },
  { key: 'monitoring', label: 'Monitoring' },
  { key: 'tenants', label: 'Tenants' },
  { key: 'billing', label: 'Billing' },
];

export function App() {
  const [auth, setAuth] = useState<AuthState>({ status: 'loading' });
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setAuth({ status: 'anon' });
      setNotice('Your session has ended. Please sign in again.');
    });
    whoami()
      .then((me) => setAuth({ status: 'authed', me }))
      .catch((e: unknown) => {
        setAuth({ status: 'anon' });
        if (!(e instanceof ApiError && e.status === 401)) setNotice((e as Error).message);
      });
  }, []);

  if (auth.status === 'loading') {
    return <div className="splash">Loading…</div>;
  }
  if (auth.status === 'anon') {
    return (
      <LoginPage
        notice={notice}
        onLoggedIn={(me) => {
          setNotice(null);
          setAuth({ status: 'authed', me });
        }}
      />
    );
  }
  return (
    <Shell
      me={auth.me}
      onLogout={async () => {
        await logout().catch(() => undefined);
        setNotice(null);
        setAuth({ status: 'anon' });
      }}
    />
  );
}

function Shell({ me, onLogout }: { me: WhoAmI; onLogout: () => void }) {
  const route = useHashRoute();
  const section = route[0] ?? 'jobs';
  const item = NAV.find((n) => n.key === section);

  useEffect(() => {
    if (!route[0]) navigate('jobs');
  }, [route[0]]);

  useEffect(() => {
    document.title = item ? `${item.label} · Gantry` : 'Gantry';
  }, [item]);

  let page;
  if (section === 'jobs') page = <JobsPage me={me} jobId={route[1]} />;
  else if (section === 'audit') page = <AuditPage />;
  else if (section === 'cmdb') page = <CmdbPage me={me} route={route.slice(1)} />;
  else if (section === 'tenants') page = <TenantsPage me={me} route={route.slice(1)} />;
  else if (section === 'billing') page = <BillingPage />;
  else if (section === 'hardware') page = <HardwarePage me={me} />;
  else if (section === 'monitoring') page = <MonitoringPage me={me} route={route.slice(1)} />;
  else if (item?.soon) page = <ComingSoon title={item.label} what={item.soon} />;
  else
    page = (
      <div className="page">
        <h1>Not found</h1>
        <p>
          There is no page <code>#/{route.join('/')}</code>. <a href="#/jobs">Go to Jobs</a>.
        </p>
      </div>
    );

  const showName = me.display_name && me.display_name !== me.username;
  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href="#/jobs">
          Gantry
        </a>
        <span className="spacer" />
        <span className="user" data-testid="nav-user" title={me.roles.length ? `roles: ${me.roles.join(', ')}` : undefined}>
          {showName ? `${me.display_name} (${me.username})` : me.username}
        </span>
        <button className="btn btn-ghost" data-testid="logout" onClick={onLogout}>
          Log out
        </button>
      </header>
      <nav className="sidebar" aria-label="Main">
        {NAV.map((n) => (
          <a
            key={n.key}
            href={`#/${n.key}`}
            data-testid={`nav-${n.key}`}
            className={n.key === section ? 'active' : undefined}
            aria-current={n.key === section ? 'page' : undefined}
          >
            {n.label}
            {n.soon && <span className="soon-tag">soon</span>}
          </a>
        ))}
      </nav>
      <main className="content">{page}</main>
    </div>
  );
}
