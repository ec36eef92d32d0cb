-- 015: raw.folded_texts keeps each document's publication time and is stored
-- in publication order, so that the Mentions page's text search reads the
-- folds itself (joined on document_id and published_at: the scan skips the
-- row groups outside the page's period) and mention_search no longer copies
-- them (3M documents: a full build writes 1M folded texts less, about 14 s of
-- CPU). The build keeps a fold's published_at equal to its document's (a
-- document dated again is folded again) and appends new folds in
-- publication order. The folds kept here are copied in that order; those of
-- documents gone are dropped (the build would delete them).
create table raw.folded_texts_015 (
    document_id varchar primary key,
    text_hash ubigint not null,
    published_at timestamptz not null,
    text_folded varchar not null,
    title_folded varchar not null
);

insert into raw.folded_texts_015
select f.document_id, f.text_hash, d.published_at, f.text_folded, f.title_folded,
from raw.folded_texts as f
inner join raw.documents as d using (document_id)
order by d.published_at, f.document_id;

drop table raw.folded_texts;

alter table raw.folded_texts_015 rename to folded_texts;
