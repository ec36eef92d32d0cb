-- A person's id: their author key (author_key: the name, case and spaces
-- folded) on one site (url_site), hashed. The one definition that the staging
-- of documents (sql/staging/stg_documents.sql), the marts that count voices
-- and the erasure of a person (listening.store.erasure) use.
create or replace macro author_id(key, site) as
    substr(md5(key || '@' || site), 1, 16);
