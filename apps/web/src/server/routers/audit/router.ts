import { createRouter } from '../../trpc';
import { auditFacets } from './facets';
import { listAudit } from './list';

export const auditRouter = createRouter({ list: listAudit, facets: auditFacets });
