-- 013: an index on the documents' thread_url, so that reading one thread (the
-- Conversations page, a mention's thread on the Mentions page) looks its
-- documents up instead of scanning every document: 3M documents, 400 ms under
-- load before, under 10 ms after (bench/marts.py). DuckDB keeps the index in
-- the store's file, so the published snapshot has it too; the one writer keeps
-- it up to date (thread_url is never updated, only inserted and deleted).
create index if not exists documents_thread_url on raw.documents (thread_url);
