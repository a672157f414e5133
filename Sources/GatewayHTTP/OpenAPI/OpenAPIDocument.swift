import Hummingbird

/// The OpenAPI 3.1 document of every HTTP route of the gateway, served at `GET /openapi.json` (open, no credential).
///
/// Hand-written JSON, kept here as a Swift string so that it is part of the binary: a SwiftPM resource would need its
/// `Bundle.module` folder beside the executable, which an installed binary does not have. `OpenAPIDocumentTests`
/// keep it true: every route the router registers is in it and it names no other, and `scripts/test.sh` validates
/// it with openapi-spec-validator and runs schemathesis against a live gateway. Edit it when a route, a parameter, a
/// body or a status changes.
enum OpenAPIDocument {
    /// The hand-written part of the document's JSON text; ``json`` (served) adds the fragments of other files.
    static let handWritten = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "meter-gateway HTTP APIs",
            "version": "1",
            "description": "Billing, review and dispatch APIs and the probes of meter-gateway. Every failure answers one JSON shape, {\"error\":{\"code\",\"message\"?,\"retryable\"?}}. Every list takes limit and an opaque cursor and answers next_cursor (null after the last page) and, when a next page exists, a Link: <…>; rel=\"next\" header."
          },
          "servers": [
            {
              "url": "/"
            }
          ],
          "tags": [
            {
              "name": "health"
            },
            {
              "name": "billing"
            },
            {
              "name": "review"
            },
            {
              "name": "dispatch"
            },
            {
              "name": "outages"
            }
          ],
          "paths": {
            "/healthz": {
              "get": {
                "operationId": "healthz",
                "summary": "Liveness: the process answers.",
                "tags": [
                  "health"
                ],
                "security": [],
                "responses": {
                  "200": {
                    "description": "ok",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/readyz": {
              "get": {
                "operationId": "readyz",
                "summary": "Readiness: the gateway can accept and store frames now.",
                "tags": [
                  "health"
                ],
                "security": [],
                "responses": {
                  "200": {
                    "description": "ready",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "503": {
                    "description": "not ready: and every reason",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/metrics": {
              "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics (text format 0.0.4).",
                "tags": [
                  "health"
                ],
                "security": [],
                "responses": {
                  "200": {
                    "description": "The metric families",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/openapi.json": {
              "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "tags": [
                  "health"
                ],
                "security": [],
                "responses": {
                  "200": {
                    "description": "The OpenAPI 3.1 document",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/billing/v1/daily-reads": {
              "get": {
                "operationId": "billingDailyReads",
                "summary": "The billing feed: published days after the cursor, oldest first.",
                "tags": [
                  "billing"
                ],
                "description": "Every publication arrives exactly once; corrections are later rows (version > 1, is_correction) that replace the earlier row of the same meter, basis and day. Needs the `billing` role (or one that grants it).",
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "billing",
                "parameters": [
                  {
                    "name": "cursor",
                    "in": "query",
                    "required": false,
                    "description": "Opaque feed position: the next_cursor of the previous page; absent for the beginning.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Page size, 1 to 5000; 1000 when absent.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 5000,
                      "default": 1000
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/BillingPage"
                        }
                      }
                    },
                    "headers": {
                      "Link": {
                        "description": "`<path?query&cursor=next_cursor>; rel=\"next\"` when a next page exists.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/billing/v1/daily-reads.csv": {
              "get": {
                "operationId": "billingDailyReadsCSV",
                "summary": "The billing feed as CSV, one line per day.",
                "tags": [
                  "billing"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "billing",
                "description": "Needs the `billing` role (or one that grants it).",
                "parameters": [
                  {
                    "name": "cursor",
                    "in": "query",
                    "required": false,
                    "description": "Opaque feed position (Next-Cursor of the previous page).",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Page size, 1 to 5000; 1000 when absent.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 5000,
                      "default": 1000
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "CSV rows",
                    "headers": {
                      "Next-Cursor": {
                        "schema": {
                          "type": "string"
                        },
                        "description": "The feed position after this page."
                      },
                      "Has-More": {
                        "schema": {
                          "type": "string",
                          "enum": [
                            "true",
                            "false"
                          ]
                        }
                      },
                      "Link": {
                        "description": "`<path?query&cursor=next_cursor>; rel=\"next\"` when a next page exists.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "content": {
                      "text/csv": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/meters/v1/verification-expired": {
              "get": {
                "operationId": "verificationExpired",
                "summary": "Meters whose verification expired on or before as_of, soonest expired first.",
                "tags": [
                  "billing"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "billing",
                "description": "Needs the `billing` role (or one that grants it).",
                "parameters": [
                  {
                    "name": "as_of",
                    "in": "query",
                    "required": false,
                    "description": "YYYY-MM-DD; today in the billing day's time zone (validation.billing_day_time_zone) when absent.",
                    "schema": {
                      "type": "string",
                      "format": "date"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Page size, 1 to 1000; 500 when absent.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 500
                    }
                  },
                  {
                    "name": "cursor",
                    "in": "query",
                    "required": false,
                    "description": "Opaque: the next_cursor of the previous page; absent or empty for the first page.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ExpiredMeters"
                        }
                      }
                    },
                    "headers": {
                      "Link": {
                        "description": "`<path?query&cursor=next_cursor>; rel=\"next\"` when a next page exists.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/review/v1/held": {
              "get": {
                "operationId": "heldForReview",
                "summary": "Readings, then days, held for review, oldest first.",
                "tags": [
                  "review"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "review",
                "description": "Needs the `review` role (or one that grants it).",
                "parameters": [
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Page size, 1 to 1000; 500 when absent.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 500
                    }
                  },
                  {
                    "name": "cursor",
                    "in": "query",
                    "required": false,
                    "description": "Opaque: the next_cursor of the previous page; absent or empty for the first page.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/HeldList"
                        }
                      }
                    },
                    "headers": {
                      "Link": {
                        "description": "`<path?query&cursor=next_cursor>; rel=\"next\"` when a next page exists.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/review/v1/decisions": {
              "post": {
                "operationId": "reviewDecision",
                "summary": "Records a decision on a held reading or day; the reviewer is the credential's name.",
                "tags": [
                  "review"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "review",
                "description": "Needs the `review` role (or one that grants it).",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/ReviewDecision"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Recorded",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Recorded"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/tickets": {
              "get": {
                "operationId": "listTickets",
                "summary": "Tickets, most urgent first (priority, next pending deadline, id).",
                "tags": [
                  "dispatch"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it).",
                "parameters": [
                  {
                    "name": "priority",
                    "in": "query",
                    "required": false,
                    "description": "Only this priority.",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "P0",
                        "P1",
                        "P2",
                        "P3"
                      ]
                    }
                  },
                  {
                    "name": "district",
                    "in": "query",
                    "required": false,
                    "description": "Only this district.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "due_before",
                    "in": "query",
                    "required": false,
                    "description": "Only tickets whose next pending deadline is before this instant (ISO 8601).",
                    "schema": {
                      "type": "string",
                      "format": "date-time"
                    }
                  },
                  {
                    "name": "include_closed",
                    "in": "query",
                    "required": false,
                    "description": "Include resolved and closed tickets.",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "true",
                        "false"
                      ]
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Page size, 1 to 1000; 500 when absent.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 500
                    }
                  },
                  {
                    "name": "cursor",
                    "in": "query",
                    "required": false,
                    "description": "Opaque: the next_cursor of the previous page; absent or empty for the first page.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TicketList"
                        }
                      }
                    },
                    "headers": {
                      "Link": {
                        "description": "`<path?query&cursor=next_cursor>; rel=\"next\"` when a next page exists.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              },
              "post": {
                "operationId": "openHotlineTicket",
                "summary": "Opens a hotline ticket (a caller reported gas); the taker is the credential's name.",
                "tags": [
                  "dispatch"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it).",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/HotlineTicket"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Opened",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/HotlineTicketCreated"
                        }
                      }
                    },
                    "headers": {
                      "Location": {
                        "schema": {
                          "type": "string"
                        },
                        "description": "/dispatch/v1/tickets/{id}"
                      }
                    }
                  },
                  "200": {
                    "description": "The meter already had an active ticket of this condition; that ticket",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/HotlineTicketCreated"
                        }
                      }
                    },
                    "headers": {
                      "Location": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/tickets/{id}": {
              "get": {
                "operationId": "getTicket",
                "summary": "A ticket, its events and the household file of its meter.",
                "tags": [
                  "dispatch"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it).",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The id.",
                    "schema": {
                      "type": "integer",
                      "format": "int64"
                    },
                    "example": 1
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TicketDetail"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/tickets/{id}/steps": {
              "post": {
                "operationId": "stepTicket",
                "summary": "Takes one lifecycle step; the actor is the credential's name.",
                "tags": [
                  "dispatch"
                ],
                "description": "409 step_not_allowed when the ticket's lifecycle refuses the step (or there is no such ticket). Needs the `dispatch` role (or one that grants it).",
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The id.",
                    "schema": {
                      "type": "integer",
                      "format": "int64"
                    },
                    "example": 1
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Step"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "The step's event",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TicketEvent"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/tickets/{id}/notes": {
              "post": {
                "operationId": "noteTicket",
                "summary": "Adds a note to a ticket.",
                "tags": [
                  "dispatch"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it).",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The id.",
                    "schema": {
                      "type": "integer",
                      "format": "int64"
                    },
                    "example": 1
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Note"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "The note's event",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TicketEvent"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/inspections": {
              "post": {
                "operationId": "recordInspection",
                "summary": "Records a safety inspection of a premises.",
                "tags": [
                  "dispatch"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it).",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Inspection"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Recorded",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Recorded"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/reports/sla": {
              "get": {
                "operationId": "slaReport",
                "summary": "SLA compliance per priority and district of the tickets opened in [from, to).",
                "tags": [
                  "dispatch"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it).",
                "parameters": [
                  {
                    "name": "from",
                    "in": "query",
                    "required": true,
                    "description": "First opening instant included (ISO 8601).",
                    "schema": {
                      "type": "string",
                      "format": "date-time"
                    }
                  },
                  {
                    "name": "to",
                    "in": "query",
                    "required": true,
                    "description": "First opening instant excluded (ISO 8601).",
                    "schema": {
                      "type": "string",
                      "format": "date-time"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SLAReport"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/reports/inspections-due": {
              "get": {
                "operationId": "inspectionsDue",
                "summary": "Premises due for a safety inspection, earliest due first.",
                "tags": [
                  "dispatch"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it).",
                "parameters": [
                  {
                    "name": "as_of",
                    "in": "query",
                    "required": false,
                    "description": "YYYY-MM-DD; today in the billing day's time zone (validation.billing_day_time_zone) when absent.",
                    "schema": {
                      "type": "string",
                      "format": "date"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Page size, 1 to 1000; 500 when absent.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 500
                    }
                  },
                  {
                    "name": "cursor",
                    "in": "query",
                    "required": false,
                    "description": "Opaque: the next_cursor of the previous page; absent or empty for the first page.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/InspectionsDue"
                        }
                      }
                    },
                    "headers": {
                      "Link": {
                        "description": "`<path?query&cursor=next_cursor>; rel=\"next\"` when a next page exists.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/meters/{protocol}/{meter}/consumption.svg": {
              "get": {
                "operationId": "meterConsumptionChart",
                "summary": "A meter's consumption chart (SVG) marking what the leak signatures found; with ticket, what raised that ticket.",
                "tags": [
                  "dispatch"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it). Two panels over whole local days: the flow of every interval (m³/h) and per day the lowest interval flow with the night minima and their trend; marks the continuous-flow band, the over-flow cut-off and intervals above it, flow with the valve closed, alarms, and the ticket's opening. Errors: 400 bad_days, bad_protocol, bad_ticket; 404 no_such_meter, no_such_ticket (not a ticket of this meter).",
                "parameters": [
                  {
                    "name": "protocol",
                    "in": "path",
                    "required": true,
                    "description": "The meter's protocol (the ticket JSON's meter.protocol).",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "native",
                        "cjt188",
                        "wmbus",
                        "mbus"
                      ]
                    },
                    "example": "native"
                  },
                  {
                    "name": "meter",
                    "in": "path",
                    "required": true,
                    "description": "The meter's address (the ticket JSON's meter.id).",
                    "schema": {
                      "type": "string"
                    },
                    "example": "00012345"
                  },
                  {
                    "name": "days",
                    "in": "query",
                    "required": false,
                    "description": "How many local days of the billing zone, ending today; 30 when absent.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 366,
                      "default": 30
                    }
                  },
                  {
                    "name": "ticket",
                    "in": "query",
                    "required": false,
                    "description": "A ticket of this meter: the chart marks what raised it, and its days end with the day it opened.",
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The chart: a standalone SVG document (no scripts, no external references), with an accessible <title> and <desc>.",
                    "content": {
                      "image/svg+xml": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/districts/{district}/balance.svg": {
              "get": {
                "operationId": "districtBalanceChart",
                "summary": "A district's balance chart (SVG): supply against the sum of its customers per billing day, with the tolerance band; the days of network_leak_suspected marked.",
                "tags": [
                  "dispatch"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it). The figures and the verdict are the balance check's. Errors: 400 bad_days; 404 no_such_district (no meter in it).",
                "parameters": [
                  {
                    "name": "district",
                    "in": "path",
                    "required": true,
                    "description": "The district.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "north"
                  },
                  {
                    "name": "days",
                    "in": "query",
                    "required": false,
                    "description": "How many local days of the billing zone, ending today; 30 when absent.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 366,
                      "default": 30
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The chart: a standalone SVG document (no scripts, no external references), with an accessible <title> and <desc>.",
                    "content": {
                      "image/svg+xml": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/outages": {
              "get": {
                "operationId": "listOutages",
                "summary": "Planned outages whose window has not ended, cancelled ones included, by start.",
                "tags": [
                  "outages"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "supervisor",
                "description": "Needs the `supervisor` role (or one that grants it).",
                "parameters": [
                  {
                    "name": "district",
                    "in": "query",
                    "required": false,
                    "description": "Only this district.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Page size, 1 to 1000; 500 when absent.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 500
                    }
                  },
                  {
                    "name": "cursor",
                    "in": "query",
                    "required": false,
                    "description": "Opaque: the next_cursor of the previous page; absent or empty for the first page.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/OutageList"
                        }
                      }
                    },
                    "headers": {
                      "Link": {
                        "description": "`<path?query&cursor=next_cursor>; rel=\"next\"` when a next page exists.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              },
              "post": {
                "operationId": "announceOutage",
                "summary": "Announces a planned outage (at most dispatch.max_outage_hours long, not ending in the past).",
                "tags": [
                  "outages"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "supervisor",
                "description": "Needs the `supervisor` role (or one that grants it).",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/OutageAnnouncement"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Announced",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/OutageCreated"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/dispatch/v1/outages/{id}/cancel": {
              "post": {
                "operationId": "cancelOutage",
                "summary": "Cancels a planned outage at once.",
                "tags": [
                  "outages"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "supervisor",
                "description": "Needs the `supervisor` role (or one that grants it).",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The id.",
                    "schema": {
                      "type": "integer",
                      "format": "int64"
                    },
                    "example": 1
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/OutageCancellation"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The cancelled outage",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Outage"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "500": {
                    "$ref": "#/components/responses/InternalError"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            }
          },
          "components": {
            "schemas": {
              "Error": {
                "type": "object",
                "properties": {
                  "error": {
                    "type": "object",
                    "properties": {
                      "code": {
                        "type": "string",
                        "description": "Stable, for programs: e.g. bad_cursor_or_limit, unauthenticated, no_such_ticket, database_unavailable."
                      },
                      "message": {
                        "type": "string",
                        "description": "For people; absent when there is nothing more to say."
                      },
                      "retryable": {
                        "type": "boolean",
                        "const": true,
                        "description": "Present, and true, only when the same request may succeed later (a Retry-After header is sent too)."
                      }
                    },
                    "required": [
                      "code"
                    ],
                    "additionalProperties": false
                  }
                },
                "required": [
                  "error"
                ],
                "additionalProperties": false
              },
              "Recorded": {
                "type": "object",
                "properties": {
                  "recorded": {
                    "type": "boolean",
                    "const": true
                  }
                },
                "required": [
                  "recorded"
                ]
              },
              "BillingRead": {
                "type": "object",
                "properties": {
                  "meter": {
                    "type": "object",
                    "properties": {
                      "protocol": {
                        "type": "string",
                        "enum": [
                          "native",
                          "cjt188",
                          "wmbus",
                          "mbus"
                        ]
                      },
                      "id": {
                        "type": "string"
                      },
                      "district": {
                        "type": [
                          "string",
                          "null"
                        ]
                      }
                    },
                    "required": [
                      "protocol",
                      "id",
                      "district"
                    ]
                  },
                  "basis": {
                    "type": "string"
                  },
                  "day": {
                    "type": "string",
                    "description": "A civil date YYYY-MM-DD."
                  },
                  "day_start": {
                    "type": "string",
                    "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                  },
                  "version": {
                    "type": "integer"
                  },
                  "is_correction": {
                    "type": "boolean"
                  },
                  "start_index_ml": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "end_index_ml": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "volume_ml": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "quality": {
                    "type": "string"
                  },
                  "reasons": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    }
                  },
                  "intervals": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "start": {
                          "type": "string",
                          "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                        },
                        "minutes": {
                          "type": "integer"
                        },
                        "volume_ml": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "quality": {
                          "type": "string",
                          "enum": [
                            "actual",
                            "estimated"
                          ]
                        }
                      },
                      "required": [
                        "start",
                        "minutes",
                        "volume_ml",
                        "quality"
                      ]
                    }
                  },
                  "protection": {
                    "type": "string",
                    "enum": [
                      "plain",
                      "encrypted",
                      "authenticated"
                    ]
                  }
                },
                "required": [
                  "meter",
                  "basis",
                  "day",
                  "day_start",
                  "version",
                  "is_correction",
                  "start_index_ml",
                  "end_index_ml",
                  "volume_ml",
                  "quality",
                  "reasons",
                  "intervals",
                  "protection"
                ]
              },
              "BillingPage": {
                "type": "object",
                "properties": {
                  "reads": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/BillingRead"
                    }
                  },
                  "next_cursor": {
                    "type": "string",
                    "description": "The feed position after this page; never null (the feed grows): send it next time."
                  },
                  "has_more": {
                    "type": "boolean"
                  }
                },
                "required": [
                  "reads",
                  "next_cursor",
                  "has_more"
                ]
              },
              "ExpiredMeters": {
                "type": "object",
                "properties": {
                  "as_of": {
                    "type": "string",
                    "description": "A civil date YYYY-MM-DD."
                  },
                  "meters": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "protocol": {
                          "type": "string",
                          "enum": [
                            "native",
                            "cjt188",
                            "wmbus",
                            "mbus"
                          ]
                        },
                        "meter": {
                          "type": "string"
                        },
                        "district": {
                          "type": [
                            "string",
                            "null"
                          ]
                        },
                        "verification_expires_on": {
                          "type": "string",
                          "description": "A civil date YYYY-MM-DD."
                        }
                      },
                      "required": [
                        "protocol",
                        "meter",
                        "district",
                        "verification_expires_on"
                      ]
                    }
                  },
                  "next_cursor": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "The cursor of the next page, null after the last page."
                  }
                },
                "required": [
                  "as_of",
                  "meters",
                  "next_cursor"
                ]
              },
              "HeldList": {
                "type": "object",
                "properties": {
                  "held": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "protocol": {
                          "type": "string",
                          "enum": [
                            "native",
                            "cjt188",
                            "wmbus",
                            "mbus"
                          ]
                        },
                        "meter": {
                          "type": "string"
                        },
                        "basis": {
                          "type": "string"
                        },
                        "read_at": {
                          "type": "string",
                          "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                        },
                        "kind": {
                          "type": "integer"
                        },
                        "day": {
                          "type": "string",
                          "description": "A civil date YYYY-MM-DD."
                        },
                        "volume_ml": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "reasons": {
                          "type": "array",
                          "items": {
                            "type": "string"
                          }
                        },
                        "protection": {
                          "type": "string",
                          "enum": [
                            "plain",
                            "encrypted",
                            "authenticated"
                          ]
                        },
                        "key_source": {
                          "type": "string"
                        }
                      },
                      "required": [
                        "protocol",
                        "meter",
                        "basis",
                        "volume_ml",
                        "reasons",
                        "protection"
                      ]
                    }
                  },
                  "next_cursor": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "The cursor of the next page, null after the last page."
                  }
                },
                "required": [
                  "held",
                  "next_cursor"
                ]
              },
              "ReviewDecision": {
                "type": "object",
                "required": [
                  "protocol",
                  "meter",
                  "decision",
                  "reason"
                ],
                "examples": [
                  {
                    "protocol": "native",
                    "meter": "700002",
                    "basis": "unspecified",
                    "day": "2026-03-01",
                    "decision": "accept",
                    "reason": "holiday home"
                  }
                ],
                "properties": {
                  "protocol": {
                    "type": "string",
                    "enum": [
                      "native",
                      "cjt188",
                      "wmbus",
                      "mbus"
                    ]
                  },
                  "meter": {
                    "type": "string"
                  },
                  "basis": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "Volume channel name; unspecified when absent or null."
                  },
                  "read_at": {
                    "type": "string",
                    "description": "The held reading's read time (give read_at or day, not both).",
                    "format": "date-time"
                  },
                  "kind": {
                    "type": [
                      "integer",
                      "null"
                    ],
                    "description": "Reading kind; 0 (periodic) when absent or null."
                  },
                  "day": {
                    "type": "string",
                    "description": "The held billing day (give read_at or day, not both).",
                    "format": "date"
                  },
                  "decision": {
                    "type": "string",
                    "enum": [
                      "accept",
                      "reject"
                    ]
                  },
                  "reason": {
                    "type": "string"
                  }
                }
              },
              "Ticket": {
                "type": "object",
                "required": [
                  "id",
                  "meter",
                  "condition",
                  "priority",
                  "status",
                  "origin",
                  "incident_id",
                  "escalation_level",
                  "alarm_count",
                  "opened_at",
                  "deadlines",
                  "steps",
                  "alarm_protection",
                  "unauthenticated_alarms"
                ],
                "properties": {
                  "id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "meter": {
                    "type": "object",
                    "properties": {
                      "protocol": {
                        "type": "string",
                        "enum": [
                          "native",
                          "cjt188",
                          "wmbus",
                          "mbus"
                        ]
                      },
                      "id": {
                        "type": "string"
                      },
                      "district": {
                        "type": [
                          "string",
                          "null"
                        ]
                      },
                      "rural": {
                        "type": "boolean"
                      }
                    },
                    "required": [
                      "protocol",
                      "id",
                      "district",
                      "rural"
                    ]
                  },
                  "condition": {
                    "type": "string"
                  },
                  "priority": {
                    "type": "string",
                    "enum": [
                      "P0",
                      "P1",
                      "P2",
                      "P3"
                    ]
                  },
                  "status": {
                    "type": "string"
                  },
                  "origin": {
                    "type": "string"
                  },
                  "incident_id": {
                    "type": [
                      "integer",
                      "null"
                    ],
                    "format": "int64"
                  },
                  "escalation_level": {
                    "type": "integer"
                  },
                  "alarm_count": {
                    "type": "integer"
                  },
                  "opened_at": {
                    "type": "string",
                    "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                  },
                  "deadlines": {
                    "type": "object",
                    "properties": {
                      "acknowledge_by": {
                        "type": [
                          "string",
                          "null"
                        ],
                        "description": "An instant (ISO 8601, UTC), or null."
                      },
                      "arrive_by": {
                        "type": [
                          "string",
                          "null"
                        ],
                        "description": "An instant (ISO 8601, UTC), or null."
                      },
                      "make_safe_by": {
                        "type": [
                          "string",
                          "null"
                        ],
                        "description": "An instant (ISO 8601, UTC), or null."
                      },
                      "repair_by": {
                        "type": [
                          "string",
                          "null"
                        ],
                        "description": "An instant (ISO 8601, UTC), or null."
                      }
                    },
                    "required": [
                      "acknowledge_by",
                      "arrive_by",
                      "make_safe_by",
                      "repair_by"
                    ]
                  },
                  "steps": {
                    "type": "object",
                    "description": "The steps taken so far, each at its time.",
                    "additionalProperties": {
                      "type": "string",
                      "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                    }
                  },
                  "reporter": {
                    "type": "string"
                  },
                  "note": {
                    "type": "string"
                  },
                  "alarm_protection": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "enum": [
                      "plain",
                      "encrypted",
                      "authenticated",
                      null
                    ]
                  },
                  "unauthenticated_alarms": {
                    "type": "boolean"
                  }
                }
              },
              "TicketList": {
                "type": "object",
                "properties": {
                  "tickets": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Ticket"
                    }
                  },
                  "next_cursor": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "The cursor of the next page, null after the last page."
                  }
                },
                "required": [
                  "tickets",
                  "next_cursor"
                ]
              },
              "TicketEvent": {
                "type": "object",
                "description": "The TicketEventMessage NOTIFY ticket_events and the MQTT dispatch topic carry.",
                "required": [
                  "event_id",
                  "event",
                  "at",
                  "actor",
                  "ticket"
                ],
                "properties": {
                  "version": {
                    "type": "integer"
                  },
                  "event_id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "event": {
                    "type": "string"
                  },
                  "at": {
                    "type": "string",
                    "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                  },
                  "actor": {
                    "type": "string"
                  },
                  "ticket": {
                    "type": "object"
                  }
                }
              },
              "Household": {
                "type": "object",
                "properties": {
                  "continuous_appliance": {
                    "type": "boolean"
                  },
                  "methane_detector_linked": {
                    "type": "boolean"
                  },
                  "customer_class": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "readings": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "read_at": {
                          "type": "string",
                          "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                        },
                        "volume_ml": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "valve": {
                          "type": "string"
                        },
                        "quality": {
                          "type": [
                            "string",
                            "null"
                          ]
                        }
                      },
                      "required": [
                        "read_at",
                        "volume_ml",
                        "valve",
                        "quality"
                      ]
                    }
                  },
                  "alarms": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "raised_at": {
                          "type": "string",
                          "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                        },
                        "condition": {
                          "type": "string"
                        },
                        "priority": {
                          "type": "string"
                        },
                        "cleared": {
                          "type": "boolean"
                        },
                        "protection": {
                          "type": "string",
                          "enum": [
                            "plain",
                            "encrypted",
                            "authenticated"
                          ]
                        }
                      },
                      "required": [
                        "raised_at",
                        "condition",
                        "priority",
                        "cleared",
                        "protection"
                      ]
                    }
                  },
                  "tickets": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "condition": {
                          "type": "string"
                        },
                        "priority": {
                          "type": "string"
                        },
                        "status": {
                          "type": "string"
                        },
                        "opened_at": {
                          "type": "string",
                          "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                        }
                      },
                      "required": [
                        "id",
                        "condition",
                        "priority",
                        "status",
                        "opened_at"
                      ]
                    }
                  },
                  "inspections": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "date": {
                          "type": "string",
                          "description": "A civil date YYYY-MM-DD."
                        },
                        "inspector": {
                          "type": "string"
                        },
                        "result": {
                          "type": "string"
                        }
                      },
                      "required": [
                        "date",
                        "inspector",
                        "result"
                      ]
                    }
                  }
                },
                "required": [
                  "continuous_appliance",
                  "methane_detector_linked",
                  "customer_class",
                  "readings",
                  "alarms",
                  "tickets",
                  "inspections"
                ]
              },
              "TicketDetail": {
                "type": "object",
                "properties": {
                  "ticket": {
                    "$ref": "#/components/schemas/Ticket"
                  },
                  "events": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/TicketEvent"
                    }
                  },
                  "household": {
                    "$ref": "#/components/schemas/Household"
                  }
                },
                "required": [
                  "ticket",
                  "events",
                  "household"
                ]
              },
              "Step": {
                "type": "object",
                "required": [
                  "step"
                ],
                "examples": [
                  {
                    "step": "acknowledged",
                    "note": "on it"
                  }
                ],
                "properties": {
                  "step": {
                    "type": "string",
                    "enum": [
                      "acknowledged",
                      "dispatched",
                      "on_site",
                      "made_safe",
                      "resolved",
                      "follow_up_done",
                      "closed"
                    ]
                  },
                  "note": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                }
              },
              "Note": {
                "type": "object",
                "properties": {
                  "note": {
                    "type": "string"
                  }
                },
                "required": [
                  "note"
                ]
              },
              "HotlineTicket": {
                "type": "object",
                "required": [
                  "protocol",
                  "meter",
                  "reporter"
                ],
                "examples": [
                  {
                    "protocol": "native",
                    "meter": "700003",
                    "reporter": "a neighbour",
                    "note": "smell of gas in the stairwell"
                  }
                ],
                "properties": {
                  "protocol": {
                    "type": "string",
                    "enum": [
                      "native",
                      "cjt188",
                      "wmbus",
                      "mbus"
                    ]
                  },
                  "meter": {
                    "type": "string"
                  },
                  "reporter": {
                    "type": "string"
                  },
                  "note": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "condition": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "An alarm condition; gas_smell_reported when absent."
                  }
                }
              },
              "HotlineTicketCreated": {
                "type": "object",
                "properties": {
                  "ticket_id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "opened": {
                    "type": "boolean"
                  }
                },
                "required": [
                  "ticket_id",
                  "opened"
                ]
              },
              "Inspection": {
                "type": "object",
                "required": [
                  "protocol",
                  "meter",
                  "date",
                  "inspector",
                  "result"
                ],
                "examples": [
                  {
                    "protocol": "native",
                    "meter": "700004",
                    "date": "2026-11-20",
                    "inspector": "crew 7",
                    "result": "passed"
                  }
                ],
                "properties": {
                  "protocol": {
                    "type": "string",
                    "enum": [
                      "native",
                      "cjt188",
                      "wmbus",
                      "mbus"
                    ]
                  },
                  "meter": {
                    "type": "string"
                  },
                  "date": {
                    "type": "string",
                    "description": "A civil date YYYY-MM-DD.",
                    "format": "date"
                  },
                  "inspector": {
                    "type": "string"
                  },
                  "result": {
                    "type": "string"
                  },
                  "note": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                }
              },
              "SLAReport": {
                "type": "object",
                "properties": {
                  "rows": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "priority": {
                          "type": "string"
                        },
                        "district": {
                          "type": "string"
                        },
                        "tickets": {
                          "type": "integer"
                        },
                        "acknowledge": {
                          "type": "object",
                          "properties": {
                            "met": {
                              "type": "integer"
                            },
                            "decided": {
                              "type": "integer"
                            },
                            "share": {
                              "type": [
                                "number",
                                "null"
                              ]
                            }
                          },
                          "required": [
                            "met",
                            "decided",
                            "share"
                          ]
                        },
                        "arrive": {
                          "type": "object",
                          "properties": {
                            "met": {
                              "type": "integer"
                            },
                            "decided": {
                              "type": "integer"
                            },
                            "share": {
                              "type": [
                                "number",
                                "null"
                              ]
                            }
                          },
                          "required": [
                            "met",
                            "decided",
                            "share"
                          ]
                        },
                        "make_safe": {
                          "type": "object",
                          "properties": {
                            "met": {
                              "type": "integer"
                            },
                            "decided": {
                              "type": "integer"
                            },
                            "share": {
                              "type": [
                                "number",
                                "null"
                              ]
                            }
                          },
                          "required": [
                            "met",
                            "decided",
                            "share"
                          ]
                        },
                        "repair": {
                          "type": "object",
                          "properties": {
                            "met": {
                              "type": "integer"
                            },
                            "decided": {
                              "type": "integer"
                            },
                            "share": {
                              "type": [
                                "number",
                                "null"
                              ]
                            }
                          },
                          "required": [
                            "met",
                            "decided",
                            "share"
                          ]
                        },
                        "arrival_minutes": {
                          "type": [
                            "object",
                            "null"
                          ],
                          "properties": {
                            "p50": {
                              "type": "number"
                            },
                            "p90": {
                              "type": "number"
                            },
                            "max": {
                              "type": "number"
                            }
                          },
                          "required": [
                            "p50",
                            "p90",
                            "max"
                          ]
                        }
                      },
                      "required": [
                        "priority",
                        "district",
                        "tickets",
                        "acknowledge",
                        "arrive",
                        "make_safe",
                        "repair",
                        "arrival_minutes"
                      ]
                    }
                  }
                },
                "required": [
                  "rows"
                ]
              },
              "InspectionsDue": {
                "type": "object",
                "properties": {
                  "as_of": {
                    "type": "string",
                    "description": "A civil date YYYY-MM-DD."
                  },
                  "due": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "protocol": {
                          "type": "string",
                          "enum": [
                            "native",
                            "cjt188",
                            "wmbus",
                            "mbus"
                          ]
                        },
                        "meter": {
                          "type": "string"
                        },
                        "district": {
                          "type": [
                            "string",
                            "null"
                          ]
                        },
                        "customer_class": {
                          "type": "string"
                        },
                        "last_inspection": {
                          "type": [
                            "string",
                            "null"
                          ]
                        },
                        "due_on": {
                          "type": "string",
                          "description": "A civil date YYYY-MM-DD."
                        }
                      },
                      "required": [
                        "protocol",
                        "meter",
                        "district",
                        "customer_class",
                        "last_inspection",
                        "due_on"
                      ]
                    }
                  },
                  "next_cursor": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "The cursor of the next page, null after the last page."
                  }
                },
                "required": [
                  "as_of",
                  "due",
                  "next_cursor"
                ]
              },
              "Outage": {
                "type": "object",
                "properties": {
                  "id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "district": {
                    "type": "string"
                  },
                  "starts_at": {
                    "type": "string",
                    "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                  },
                  "ends_at": {
                    "type": "string",
                    "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                  },
                  "reason": {
                    "type": "string"
                  },
                  "announced_by": {
                    "type": "string"
                  },
                  "announced_at": {
                    "type": "string",
                    "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z."
                  },
                  "cancelled_at": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "An instant (ISO 8601, UTC), or null."
                  },
                  "cancelled_by": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "cancel_reason": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                },
                "required": [
                  "id",
                  "district",
                  "starts_at",
                  "ends_at",
                  "reason",
                  "announced_by",
                  "announced_at",
                  "cancelled_at",
                  "cancelled_by",
                  "cancel_reason"
                ]
              },
              "OutageList": {
                "type": "object",
                "properties": {
                  "outages": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Outage"
                    }
                  },
                  "next_cursor": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "The cursor of the next page, null after the last page."
                  }
                },
                "required": [
                  "outages",
                  "next_cursor"
                ]
              },
              "OutageAnnouncement": {
                "type": "object",
                "required": [
                  "district",
                  "starts_at",
                  "ends_at",
                  "reason"
                ],
                "examples": [
                  {
                    "district": "d1",
                    "starts_at": "2099-01-01T08:00:00Z",
                    "ends_at": "2099-01-01T10:00:00Z",
                    "reason": "main renewal"
                  }
                ],
                "properties": {
                  "district": {
                    "type": "string"
                  },
                  "starts_at": {
                    "type": "string",
                    "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z.",
                    "format": "date-time"
                  },
                  "ends_at": {
                    "type": "string",
                    "description": "An instant, ISO 8601 in UTC, e.g. 2026-11-24T08:00:00Z.",
                    "format": "date-time"
                  },
                  "reason": {
                    "type": "string"
                  }
                }
              },
              "OutageCreated": {
                "type": "object",
                "properties": {
                  "outage_id": {
                    "type": "integer",
                    "format": "int64"
                  }
                },
                "required": [
                  "outage_id"
                ]
              },
              "OutageCancellation": {
                "type": "object",
                "properties": {
                  "reason": {
                    "type": "string"
                  }
                },
                "required": [
                  "reason"
                ]
              }
            },
            "responses": {
              "BadRequest": {
                "description": "The request is malformed (code names what: bad_cursor_or_limit, bad_date, bad_id, bad_step, bad_value, …).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Unauthorized": {
                "description": "No or an unknown bearer token (code unauthenticated).",
                "headers": {
                  "WWW-Authenticate": {
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Forbidden": {
                "description": "The credential lacks the role (code forbidden).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "NotFound": {
                "description": "No such record (no_such_ticket, no_such_meter, no_such_outage, not_held) or route (not_found).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Conflict": {
                "description": "The record's state refuses the request (step_not_allowed, outage_already_cancelled, outage_already_over).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "ContentTooLarge": {
                "description": "The body is larger than 64 KiB.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "InternalError": {
                "description": "database_error (the database refused the request) or internal_error.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "ServiceUnavailable": {
                "description": "database_unavailable: retry later (retryable, Retry-After).",
                "headers": {
                  "Retry-After": {
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              }
            },
            "securitySchemes": {
              "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token of a configured [[http.credentials]] entry."
              }
            }
          }
        }
        """#
}

/// `GET /openapi.json`: ``OpenAPIDocument``, as `application/json`.
struct OpenAPIRoutes: Sendable {
    /// Adds the route to a router.
    /// - Parameter router: The router.
    func register(on router: Router<GatewayRequestContext>) {
        router.get("openapi.json") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json + "\n"))
            )
        }
    }
}
