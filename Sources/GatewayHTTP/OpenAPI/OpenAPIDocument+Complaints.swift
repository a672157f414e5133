import Foundation

extension OpenAPIDocument {
    /// The served document: ``handWritten`` with the fragments of other route groups merged in (their paths, tags and
    /// schemas, none of which may repeat one already there). Kept apart so that each group's routes and their
    /// document change in files of their own.
    static let json: String = merged(handWritten, fragments: [complaints])

    /// Complaints, return calls and the service-quality report (``ComplaintsAPI``).
    static let complaints = #"""
        {
          "tags": [
            {
              "name": "complaints"
            }
          ],
          "paths": {
            "/dispatch/v1/complaints": {
              "get": {
                "operationId": "listComplaints",
                "summary": "Complaints in order of receipt (closed ones with include_closed=true).",
                "tags": [
                  "complaints"
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
                    "name": "status",
                    "in": "query",
                    "required": false,
                    "description": "Only this status.",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "received",
                        "accepted",
                        "not_accepted",
                        "proposed",
                        "answered",
                        "follow_up_done",
                        "closed"
                      ]
                    }
                  },
                  {
                    "name": "category",
                    "in": "query",
                    "required": false,
                    "description": "Only this category.",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "billing_dispute",
                        "meter_accuracy",
                        "service_attitude",
                        "supply_interruption",
                        "safety",
                        "other"
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
                    "name": "include_closed",
                    "in": "query",
                    "required": false,
                    "description": "Include closed complaints.",
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
                          "$ref": "#/components/schemas/ComplaintList"
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
                "operationId": "receiveComplaint",
                "summary": "Records a complaint received now, with its answer deadline (5 working days by the company's working calendar).",
                "tags": [
                  "complaints"
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
                        "$ref": "#/components/schemas/ComplaintRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Created",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Complaint"
                        }
                      }
                    },
                    "headers": {
                      "Location": {
                        "description": "The complaint's URL.",
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
            "/dispatch/v1/complaints/{id}": {
              "get": {
                "operationId": "getComplaint",
                "summary": "One complaint, its events (every step with actor and time) and its return call.",
                "tags": [
                  "complaints"
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
                          "$ref": "#/components/schemas/ComplaintDetail"
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
            "/dispatch/v1/complaints/{id}/steps": {
              "post": {
                "operationId": "stepComplaint",
                "summary": "One lifecycle step: accepted, not_accepted (text: the reason), proposed, answered (a billing dispute's outcome), closed. Forward only.",
                "tags": [
                  "complaints"
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
                        "$ref": "#/components/schemas/ComplaintStep"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Created",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ComplaintEvent"
                        }
                      }
                    },
                    "headers": {
                      "Location": {
                        "description": "The complaint's URL.",
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
            "/dispatch/v1/complaints/{id}/notes": {
              "post": {
                "operationId": "noteComplaint",
                "summary": "Adds a note to a complaint.",
                "tags": [
                  "complaints"
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
                    "description": "Created",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ComplaintEvent"
                        }
                      }
                    },
                    "headers": {
                      "Location": {
                        "description": "The complaint's URL.",
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
            "/dispatch/v1/complaints/{id}/return-call": {
              "post": {
                "operationId": "returnCallComplaint",
                "summary": "Records the return call of an answered or not-accepted complaint (or a supervisor's waiver): step follow_up_done.",
                "tags": [
                  "complaints"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it); outcome `waived` needs `supervisor`, with the reason as remarks.",
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
                        "$ref": "#/components/schemas/ReturnCallRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Created",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ComplaintEvent"
                        }
                      }
                    },
                    "headers": {
                      "Location": {
                        "description": "The complaint's URL.",
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
            "/dispatch/v1/complaints/{id}/dispute": {
              "get": {
                "operationId": "getDisputeFile",
                "summary": "A billing dispute's file: dispute accuracy tests, the disputed days as validated, billing-feed versions published since receipt.",
                "tags": [
                  "complaints"
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
                          "$ref": "#/components/schemas/DisputeFile"
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
            "/dispatch/v1/tickets/{id}/return-call": {
              "post": {
                "operationId": "returnCallTicket",
                "summary": "Records the return call of a resolved ticket (or a supervisor's waiver): step follow_up_done; only then may it close.",
                "tags": [
                  "complaints"
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ],
                "x-required-role": "dispatch",
                "description": "Needs the `dispatch` role (or one that grants it); outcome `waived` needs `supervisor`, with the reason as remarks.",
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
                        "$ref": "#/components/schemas/ReturnCallRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Created",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TicketEvent"
                        }
                      }
                    },
                    "headers": {
                      "Location": {
                        "description": "The ticket's URL.",
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
            "/dispatch/v1/reports/service-quality": {
              "get": {
                "operationId": "serviceQualityReport",
                "summary": "The monthly service-quality report per district.",
                "tags": [
                  "complaints"
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
                    "name": "month",
                    "in": "query",
                    "required": true,
                    "description": "The month, YYYY-MM (in the zone of billing days).",
                    "schema": {
                      "type": "string",
                      "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"
                    },
                    "example": "2026-02"
                  },
                  {
                    "name": "district",
                    "in": "query",
                    "required": false,
                    "description": "Only this district.",
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
                          "$ref": "#/components/schemas/ServiceQualityReport"
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
            "/dispatch/v1/reports/service-quality.csv": {
              "get": {
                "operationId": "serviceQualityReportCSV",
                "summary": "The monthly service-quality report per district as CSV (the same columns).",
                "tags": [
                  "complaints"
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
                    "name": "month",
                    "in": "query",
                    "required": true,
                    "description": "The month, YYYY-MM (in the zone of billing days).",
                    "schema": {
                      "type": "string",
                      "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"
                    },
                    "example": "2026-02"
                  },
                  {
                    "name": "district",
                    "in": "query",
                    "required": false,
                    "description": "Only this district.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
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
            }
          },
          "components": {
            "schemas": {
              "Complaint": {
                "type": "object",
                "required": [
                  "id",
                  "channel",
                  "category",
                  "meter",
                  "district",
                  "complainant",
                  "contact",
                  "confidential",
                  "summary",
                  "request",
                  "disputed_from",
                  "disputed_to",
                  "status",
                  "received_at",
                  "received_by",
                  "answer_by",
                  "answer_by_provisional",
                  "steps",
                  "not_accepted_reason",
                  "proposal",
                  "answer",
                  "outcome",
                  "escalation_level"
                ],
                "properties": {
                  "id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "channel": {
                    "type": "string",
                    "enum": [
                      "hotline",
                      "counter",
                      "web",
                      "app"
                    ]
                  },
                  "category": {
                    "type": "string",
                    "enum": [
                      "billing_dispute",
                      "meter_accuracy",
                      "service_attitude",
                      "supply_interruption",
                      "safety",
                      "other"
                    ]
                  },
                  "meter": {
                    "type": [
                      "object",
                      "null"
                    ],
                    "required": [
                      "protocol",
                      "id"
                    ],
                    "properties": {
                      "protocol": {
                        "type": "string"
                      },
                      "id": {
                        "type": "string"
                      }
                    }
                  },
                  "district": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "complainant": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "contact": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "confidential": {
                    "type": "boolean"
                  },
                  "summary": {
                    "type": "string"
                  },
                  "request": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "disputed_from": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "disputed_to": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "status": {
                    "type": "string",
                    "enum": [
                      "received",
                      "accepted",
                      "not_accepted",
                      "proposed",
                      "answered",
                      "follow_up_done",
                      "closed"
                    ]
                  },
                  "received_at": {
                    "type": "string"
                  },
                  "received_by": {
                    "type": "string"
                  },
                  "answer_by": {
                    "type": "string"
                  },
                  "answer_by_provisional": {
                    "type": "boolean"
                  },
                  "steps": {
                    "type": "object",
                    "additionalProperties": {
                      "type": "string"
                    }
                  },
                  "not_accepted_reason": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "proposal": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "answer": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "outcome": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "escalation_level": {
                    "type": "integer"
                  }
                },
                "description": "A complaint. answer_by is the end of the last working day allowed; complainant and contact are null for a confidential complaint."
              },
              "ComplaintList": {
                "type": "object",
                "required": [
                  "complaints",
                  "next_cursor"
                ],
                "properties": {
                  "complaints": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Complaint"
                    }
                  },
                  "next_cursor": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                }
              },
              "ComplaintEvent": {
                "type": "object",
                "required": [
                  "id",
                  "complaint_id",
                  "at",
                  "kind",
                  "actor",
                  "detail"
                ],
                "properties": {
                  "id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "complaint_id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "at": {
                    "type": "string"
                  },
                  "kind": {
                    "type": "string"
                  },
                  "actor": {
                    "type": "string"
                  },
                  "detail": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                }
              },
              "ReturnCall": {
                "type": "object",
                "required": [
                  "outcome",
                  "attempts",
                  "remarks",
                  "actor",
                  "at"
                ],
                "properties": {
                  "outcome": {
                    "type": "string",
                    "enum": [
                      "satisfied",
                      "not_satisfied",
                      "unreachable",
                      "waived"
                    ]
                  },
                  "attempts": {
                    "type": "integer"
                  },
                  "remarks": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "actor": {
                    "type": "string"
                  },
                  "at": {
                    "type": "string"
                  }
                }
              },
              "ComplaintDetail": {
                "type": "object",
                "required": [
                  "complaint",
                  "events",
                  "return_call"
                ],
                "properties": {
                  "complaint": {
                    "$ref": "#/components/schemas/Complaint"
                  },
                  "events": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/ComplaintEvent"
                    }
                  },
                  "return_call": {
                    "oneOf": [
                      {
                        "$ref": "#/components/schemas/ReturnCall"
                      },
                      {
                        "type": "null"
                      }
                    ]
                  }
                }
              },
              "ComplaintRequest": {
                "type": "object",
                "required": [
                  "channel",
                  "category",
                  "complainant",
                  "summary"
                ],
                "properties": {
                  "channel": {
                    "type": "string",
                    "enum": [
                      "hotline",
                      "counter",
                      "web",
                      "app"
                    ]
                  },
                  "category": {
                    "type": "string",
                    "enum": [
                      "billing_dispute",
                      "meter_accuracy",
                      "service_attitude",
                      "supply_interruption",
                      "safety",
                      "other"
                    ]
                  },
                  "protocol": {
                    "type": "string",
                    "enum": [
                      "native",
                      "cjt188",
                      "wmbus",
                      "mbus"
                    ],
                    "description": "With meter: the household's meter (required for a billing dispute)."
                  },
                  "meter": {
                    "type": "string"
                  },
                  "district": {
                    "type": "string",
                    "description": "When there is no meter."
                  },
                  "complainant": {
                    "type": "string",
                    "minLength": 1
                  },
                  "contact": {
                    "type": "string"
                  },
                  "confidential": {
                    "type": "boolean"
                  },
                  "summary": {
                    "type": "string",
                    "minLength": 1
                  },
                  "request": {
                    "type": "string",
                    "description": "What the customer asked for."
                  },
                  "disputed_from": {
                    "type": "string",
                    "format": "date"
                  },
                  "disputed_to": {
                    "type": "string",
                    "format": "date"
                  }
                }
              },
              "ComplaintStep": {
                "type": "object",
                "required": [
                  "step"
                ],
                "properties": {
                  "step": {
                    "type": "string",
                    "enum": [
                      "accepted",
                      "not_accepted",
                      "proposed",
                      "answered",
                      "closed"
                    ]
                  },
                  "text": {
                    "type": "string"
                  },
                  "outcome": {
                    "type": "string",
                    "enum": [
                      "bill_confirmed",
                      "corrected",
                      "meter_replaced"
                    ]
                  }
                }
              },
              "ReturnCallRequest": {
                "type": "object",
                "required": [
                  "outcome"
                ],
                "properties": {
                  "outcome": {
                    "type": "string",
                    "enum": [
                      "satisfied",
                      "not_satisfied",
                      "unreachable",
                      "waived"
                    ]
                  },
                  "attempts": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 100,
                    "description": "Calls made: at least 1, at least 3 for unreachable, 0 for a waiver (the default: 1, 0 for a waiver)."
                  },
                  "remarks": {
                    "type": "string",
                    "description": "What the customer said; for a waiver, the reason (required)."
                  }
                }
              },
              "DisputeFile": {
                "type": "object",
                "required": [
                  "complaint",
                  "accuracy_tests",
                  "days",
                  "billing_versions"
                ],
                "properties": {
                  "complaint": {
                    "$ref": "#/components/schemas/Complaint"
                  },
                  "accuracy_tests": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "id",
                        "tested_on",
                        "flow_ml_per_h",
                        "error_bp",
                        "verdict",
                        "limit_bp",
                        "tester",
                        "note"
                      ],
                      "properties": {
                        "id": {
                          "type": "integer"
                        },
                        "tested_on": {
                          "type": "string"
                        },
                        "flow_ml_per_h": {
                          "type": "integer"
                        },
                        "error_bp": {
                          "type": "integer"
                        },
                        "verdict": {
                          "type": "string"
                        },
                        "limit_bp": {
                          "type": [
                            "integer",
                            "null"
                          ]
                        },
                        "tester": {
                          "type": "string"
                        },
                        "note": {
                          "type": [
                            "string",
                            "null"
                          ]
                        }
                      }
                    }
                  },
                  "days": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "day",
                        "basis",
                        "volume_ml",
                        "quality",
                        "reasons",
                        "version",
                        "published_version"
                      ],
                      "properties": {
                        "day": {
                          "type": "string"
                        },
                        "basis": {
                          "type": "integer"
                        },
                        "volume_ml": {
                          "type": "integer"
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
                        "version": {
                          "type": "integer"
                        },
                        "published_version": {
                          "type": "integer"
                        }
                      }
                    }
                  },
                  "billing_versions": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "seq",
                        "day",
                        "basis",
                        "version",
                        "is_correction",
                        "volume_ml",
                        "quality",
                        "published_at"
                      ],
                      "properties": {
                        "seq": {
                          "type": "integer"
                        },
                        "day": {
                          "type": "string"
                        },
                        "basis": {
                          "type": "integer"
                        },
                        "version": {
                          "type": "integer"
                        },
                        "is_correction": {
                          "type": "boolean"
                        },
                        "volume_ml": {
                          "type": "integer"
                        },
                        "quality": {
                          "type": "string"
                        },
                        "published_at": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              },
              "ServiceQualityRow": {
                "type": "object",
                "required": [
                  "district",
                  "households",
                  "emergencies",
                  "emergencies_arrived_in_time",
                  "arrival_minutes_p50",
                  "arrival_minutes_p90",
                  "network_faults",
                  "network_faults_handled_6h",
                  "network_faults_repaired_24h",
                  "complaints",
                  "complaints_answered_in_time",
                  "complaints_per_10k_households",
                  "complaints_per_10k_billing_dispute",
                  "complaints_per_10k_meter_accuracy",
                  "complaints_per_10k_service_attitude",
                  "complaints_per_10k_supply_interruption",
                  "complaints_per_10k_safety",
                  "complaints_per_10k_other",
                  "return_calls",
                  "follow_up_call_rate",
                  "satisfaction_rate",
                  "return_calls_satisfied",
                  "return_calls_not_satisfied",
                  "return_calls_unreachable",
                  "return_calls_waived",
                  "inspections_due",
                  "inspections_done"
                ],
                "properties": {
                  "district": {
                    "type": "string"
                  },
                  "households": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "emergencies": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "emergencies_arrived_in_time": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "arrival_minutes_p50": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "arrival_minutes_p90": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "network_faults": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "network_faults_handled_6h": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "network_faults_repaired_24h": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "complaints": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "complaints_answered_in_time": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "complaints_per_10k_households": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "complaints_per_10k_billing_dispute": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "complaints_per_10k_meter_accuracy": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "complaints_per_10k_service_attitude": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "complaints_per_10k_supply_interruption": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "complaints_per_10k_safety": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "complaints_per_10k_other": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "return_calls": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "follow_up_call_rate": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "satisfaction_rate": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "return_calls_satisfied": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "return_calls_not_satisfied": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "return_calls_unreachable": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "return_calls_waived": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "inspections_due": {
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "inspections_done": {
                    "type": [
                      "number",
                      "null"
                    ]
                  }
                }
              },
              "ServiceQualityReport": {
                "type": "object",
                "required": [
                  "month",
                  "zone",
                  "districts"
                ],
                "properties": {
                  "month": {
                    "type": "string"
                  },
                  "zone": {
                    "type": "string"
                  },
                  "districts": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/ServiceQualityRow"
                    }
                  }
                }
              }
            }
          }
        }

        """#

    /// `base` with each fragment's `tags`, `paths` and `components.schemas` added, as pretty-printed JSON with sorted
    /// keys; `base` unchanged if a text is not a JSON object or a name repeats (the document tests then fail).
    static func merged(_ base: String, fragments: [String]) -> String {
        guard var document = object(base) else { return base }
        var tags = document["tags"] as? [Any] ?? []
        var paths = document["paths"] as? [String: Any] ?? [:]
        var components = document["components"] as? [String: Any] ?? [:]
        var schemas = components["schemas"] as? [String: Any] ?? [:]
        for text in fragments {
            guard let fragment = object(text) else { return base }
            tags += fragment["tags"] as? [Any] ?? []
            for (path, item) in fragment["paths"] as? [String: Any] ?? [:] {
                guard paths[path] == nil else { return base }
                paths[path] = item
            }
            let added = (fragment["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
            for (name, schema) in added {
                guard schemas[name] == nil else { return base }
                schemas[name] = schema
            }
        }
        components["schemas"] = schemas
        document["tags"] = tags
        document["paths"] = paths
        document["components"] = components
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: document,
                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            )
        else { return base }
        return String(decoding: data, as: UTF8.self)
    }

    private static func object(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }
}
