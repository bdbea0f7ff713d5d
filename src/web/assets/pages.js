// The page registry: each page is one module default-exporting {id, title, nav, role, route,
// mount}. Adding a page = one file + one line here. Order = order in the nav bar.

import matrix from './page-matrix.js';
import symbol from './page-symbol.js';
import signals from './page-signals.js';
import portfolio from './page-portfolio.js';
import backtest from './page-backtest.js';
import notifications from './page-notifications.js';
import operations from './page-operations.js';
import apiDocs from './page-api.js';
import account from './page-account.js';

export const pages = [matrix, symbol, signals, portfolio, backtest, notifications, operations, apiDocs, account];
