import { json } from '@sveltejs/kit';
import { openApiDocument } from '#lib/server/api/openapi.ts';
import type { RequestHandler } from './$types';

/** The API's description, public like any API documentation (it holds no data). */
export const GET: RequestHandler = ({ url }) => json(openApiDocument(url.origin));
