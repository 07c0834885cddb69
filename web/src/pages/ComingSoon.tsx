export function ComingSoon({ title, what }: { title: string; what: string }) {
  return (
    <div className="page" data-testid="coming-soon">
      <h1>
        {title} <span className="badge badge-muted">coming soon</span>
      </h1>
      <div className="card placeholder">
        <p>
          <strong>Coming soon.</strong> {what}
        </p>
        <p className="muted">This section is a placeholder; it will be filled in when its domain lands on the server.</p>
      </div>
    </div>
  );
}
