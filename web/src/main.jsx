import { render } from 'preact';
import './styles.css';
import './lib/theme.js';
import { App } from './App.jsx';

render(<App />, document.getElementById('app'));
