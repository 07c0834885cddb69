import type { WhoAmI } from '../../api';
import { ChangesPage } from './Changes';
import { CiPage } from './CiPage';
import { CmdbSearch } from './Search';

/**
 * The CMDB section. Routes: `#/cmdb[?q=&type=&status=]` (search), `#/cmdb/ci/<id or
 * type%2Fname>` (one CI), `#/cmdb/changes[/<id>]` (change requests).
 */
export function CmdbPage({ me, route }: { me: WhoAmI; route: string[] }) {
  if (route[0] === 'ci' && route[1]) return <CiPage ciRef={route[1]} />;
  if (route[0] === 'changes') return <ChangesPage me={me} id={route[1]} />;
  return <CmdbSearch />;
}
