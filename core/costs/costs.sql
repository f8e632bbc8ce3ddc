-- Model pricing and job costs (db/init/008_compat.sql).

-- name: pricing_upsert
INSERT INTO model_pricing (provider, model, input_per_1m, output_per_1m, source, updated_at)
SELECT * , now() FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::text[])
ON CONFLICT (provider, model) DO UPDATE
   SET input_per_1m = EXCLUDED.input_per_1m, output_per_1m = EXCLUDED.output_per_1m,
       source = EXCLUDED.source, updated_at = now();

-- name: pricing_list
SELECT provider, model, input_per_1m, output_per_1m, source, updated_at
  FROM model_pricing ORDER BY provider, model;

-- name: job_costs_insert
-- Costs of finished jobs: local providers ($6) cost 0; others by their model's price, else the
-- provider's '*' price, else 0 and priced = false.
INSERT INTO job_costs (job_id, provider, model, tokens_in, tokens_out, cost_usd, priced)
SELECT u.job_id, u.provider, u.model, u.tokens_in, u.tokens_out,
       CASE WHEN u.provider = ANY($6::text[]) THEN 0
            ELSE coalesce((u.tokens_in * p.input_per_1m + u.tokens_out * p.output_per_1m) / 1e6, 0)
       END,
       u.provider = ANY($6::text[]) OR p.provider IS NOT NULL
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
       AS u(job_id, provider, model, tokens_in, tokens_out)
  LEFT JOIN LATERAL (
      SELECT * FROM model_pricing mp
       WHERE mp.provider = u.provider AND mp.model IN (u.model, '*')
       ORDER BY mp.model = '*'
       LIMIT 1) p ON true
ON CONFLICT (job_id) DO NOTHING;

-- name: job_costs_summary
-- Costs of jobs finished in the last $1 days, by provider and model.
SELECT provider, model, count(*)::int AS jobs, sum(tokens_in)::bigint AS tokens_in,
       sum(tokens_out)::bigint AS tokens_out, sum(cost_usd) AS cost_usd,
       count(*) FILTER (WHERE NOT priced)::int AS unpriced_jobs
  FROM job_costs
 WHERE finished_at > now() - make_interval(days => $1)
 GROUP BY provider, model
 ORDER BY sum(cost_usd) DESC, provider, model;
