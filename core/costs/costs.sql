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

-- name: job_costs_summary
-- Costs of jobs finished in the last $1 days, by provider and model.
SELECT provider, model, count(*)::int AS jobs, sum(tokens_in)::bigint AS tokens_in,
       sum(tokens_out)::bigint AS tokens_out, sum(cost_usd) AS cost_usd,
       count(*) FILTER (WHERE NOT priced)::int AS unpriced_jobs
  FROM job_costs
 WHERE finished_at > now() - make_interval(days => $1)
 GROUP BY provider, model
 ORDER BY sum(cost_usd) DESC, provider, model;
