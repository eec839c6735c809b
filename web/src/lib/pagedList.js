import { useEffect, useState } from 'preact/hooks';
import { attempt } from '../components/toast.js';
import { get, query } from './api.js';

/**
 * The state of an admin list page on One API's routes: `${base}?p=&order=` pages (10 rows each),
 * `${base}search?keyword=` searches. An empty keyword goes back to the first page; `reload`
 * repeats whichever of the two was shown last.
 */
export function usePagedList(base) {
  const [rows, setRows] = useState([]);
  const [page, setPage] = useState(0);
  const [order, setOrder] = useState('');
  const [keyword, setKeyword] = useState('');
  const [searching, setSearching] = useState(false);

  const load = async (p = page, o = order) => {
    const data = await attempt(() => get(`${base}${query({ p, order: o })}`));
    if (data) {
      setRows(data);
      setPage(p);
      setSearching(false);
    }
  };
  useEffect(() => { load(0); }, []);

  const search = async () => {
    if (!keyword) return load(0);
    const data = await attempt(() => get(`${base}search${query({ keyword })}`));
    if (data) {
      setRows(data);
      setSearching(true);
    }
  };
  const reload = () => (searching ? search() : load());

  return { rows, setRows, page, order, setOrder, keyword, setKeyword, searching, load, search, reload };
}
