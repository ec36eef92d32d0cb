-- 015: raw.folded_texts holds one fold per mention, with its brand and its
-- document's publication time, stored in publication order: the Mentions
-- page's text search reads the folds itself (the scan skips the row groups
-- outside the page's period by their min/max of published_at, then reads
-- the texts of the brand's rows only) and joins them to mention_search by
-- mention_id, so the mart no longer copies them (3M documents: a full build
-- writes 1M folded texts less, about 14 s of CPU). The build keeps a fold's
-- published_at equal to its document's (a document dated again is folded
-- again) and appends new folds in publication order. The folds kept here
-- are copied, one per mention of their document, in that order; those of
-- documents gone are dropped (the build would delete them).
-- The copy sorts the folded texts (about 600 MB at 3M documents): at the
-- build's memory limit (listening.marts.build), which spills the sort to
-- disk, not DuckDB's default of 80 % of the RAM (2.25 GB of RSS measured).
set memory_limit = '1536MB';

create table raw.folded_texts_015 (
    mention_id varchar primary key,
    brand varchar not null,
    published_at timestamptz not null,
    text_hash ubigint not null,
    text_folded varchar not null,
    title_folded varchar not null
);

insert into raw.folded_texts_015
select m.mention_id, m.brand, d.published_at, f.text_hash, f.text_folded, f.title_folded,
from raw.folded_texts as f
inner join raw.documents as d using (document_id)
inner join raw.mentions as m using (document_id)
order by d.published_at, m.mention_id;

drop table raw.folded_texts;

alter table raw.folded_texts_015 rename to folded_texts;

reset memory_limit;
