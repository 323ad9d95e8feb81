// Starts GraphiQL with the settings the gateway put in #graphiql-config.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var NAMESPACE = "graphiql:";

  // Headers hold credentials, so none may reach localStorage. shouldPersistHeaders: false keeps
  // them out of the tabs, but GraphiQL 3 still writes each run's headers into its query history
  // ("graphiql:queries"): this storage drops every "headers" value before anything is written.
  function withoutHeaders(value) {
    var parsed;
    try {
      parsed = JSON.parse(value);
    } catch (notJson) {
      return value;
    }
    return JSON.stringify(parsed, function (key, item) {
      return key === "headers" ? undefined : item;
    });
  }
  function ownKeys() {
    return Object.keys(localStorage).filter(function (key) {
      return key.indexOf(NAMESPACE) === 0;
    });
  }
  var storage = {
    getItem: function (key) {
      return localStorage.getItem(key);
    },
    setItem: function (key, value) {
      localStorage.setItem(key, withoutHeaders(value));
    },
    removeItem: function (key) {
      localStorage.removeItem(key);
    },
    clear: function () {
      ownKeys().forEach(function (key) {
        localStorage.removeItem(key);
      });
    },
    get length() {
      return ownKeys().length;
    },
  };

  // The page is served at the GraphQL endpoint itself.
  var http = GraphiQL.createFetcher({ url: window.location.pathname });

  // GraphiQL reads the headers pane as strict JSON, which has no comments: a header whose name
  // starts with "#" is the page's way of commenting one out, and is never sent.
  function fetcher(params, options) {
    var typed = (options && options.headers) || {};
    var headers = {};
    Object.keys(typed).forEach(function (name) {
      if (name.charAt(0) !== "#") {
        headers[name] = typed[name];
      }
    });
    return http(params, Object.assign({}, options, { headers: headers }));
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
      shouldPersistHeaders: false,
      defaultQuery: config.defaultQuery,
      defaultHeaders: config.defaultHeaders,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      inputValueDeprecation: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    }),
  );
})();
