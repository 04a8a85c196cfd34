// GraphiQL on this server's /graphql. The header marks the requests as an application's, as
// the CSRF rule of /graphql asks of every POST a browser could send without a preflight.
const fetcher = GraphiQL.createFetcher({
  url: window.location.origin + "/graphql",
  headers: { "X-Ambrogio-Client": "graphiql" },
});
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }),
);
