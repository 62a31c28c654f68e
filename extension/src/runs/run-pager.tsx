/**
 * The pager under the runs table: the rows shown, previous/next, and a page number to jump to.
 */
import React, { useEffect, useState } from 'react';

/** Props of {@link RunPager}. */
export interface IRunPagerProps {
  /** Zero-based page. */
  page: number;
  /** Number of pages. */
  pageCount: number;
  /** Rows per page. */
  pageSize: number;
  /** Rows in all. */
  total: number;
  /** Go to a (zero-based) page. */
  onPage: (page: number) => void;
}

/** Previous / page box / next. */
export function RunPager(props: IRunPagerProps): JSX.Element {
  const { page, pageCount, pageSize, total } = props;
  const [typed, setTyped] = useState(String(page + 1));
  useEffect(() => setTyped(String(page + 1)), [page]);
  const first = total ? page * pageSize + 1 : 0;
  const last = Math.min(total, (page + 1) * pageSize);
  const jump = () => {
    const wanted = Number.parseInt(typed, 10);
    const target = Math.min(Math.max(wanted, 1), pageCount) - 1;
    if (Number.isFinite(wanted) && target !== page) {
      props.onPage(target);
    } else {
      setTyped(String(page + 1));
    }
  };
  return (
    <div className="jp-mlops-pager">
      <span className="jp-mlops-count">
        {first}–{last} of {total}
      </span>
      <button
        className="jp-mlops-button"
        aria-label="Previous page"
        disabled={page === 0}
        onClick={() => props.onPage(page - 1)}
      >
        ‹
      </button>
      <form
        className="jp-mlops-page-jump"
        onSubmit={event => {
          event.preventDefault();
          jump();
        }}
      >
        <input
          className="jp-mlops-input jp-mlops-page-input"
          aria-label="Page number"
          inputMode="numeric"
          value={typed}
          onChange={event => setTyped(event.target.value)}
          onBlur={jump}
        />
        <span> / {pageCount}</span>
      </form>
      <button
        className="jp-mlops-button"
        aria-label="Next page"
        disabled={page + 1 >= pageCount}
        onClick={() => props.onPage(page + 1)}
      >
        ›
      </button>
    </div>
  );
}
