-- A thread: the post, then its comments in order (parent_id gives the tree).
select
    document_id,
    kind,
    url,
    parent_id,
    author,
    published_at,
    title,
    text,
from documents
where thread_url = $thread_url
order by kind = 'comment', published_at, document_id
